"""The examples in the README run and print what the README says they print."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md"]


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_examples_in_document_run_as_shown(path: Path) -> None:
    """Every ``>>>`` example in the document gives the output written under it."""
    results = doctest.testfile(
        str(path), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False
    )
    assert results.attempted > 0, f"{path.name} has no examples to run"
    assert results.failed == 0, f"{results.failed} example(s) in {path.name} failed; see above"
