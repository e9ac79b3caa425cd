"""The documentation tells the truth: its examples run as shown and its rules table is complete."""

from __future__ import annotations

import doctest
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from micrograd.rules import RULES

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_examples_in_document_run_as_shown(path: Path) -> None:
    """Every ``>>>`` example in the README and the docs gives the output written under it."""
    results = doctest.testfile(
        str(path), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False
    )
    assert results.failed == 0, f"{results.failed} example(s) in {path.name} failed; see above"


@pytest.mark.parametrize("name", ["README.md", "semantics.md", "nn.md"])
def test_key_documents_have_examples(name: str) -> None:
    """The README, the semantics page and the nn page carry runnable examples."""
    path = next(p for p in DOCUMENTS if p.name == name)
    assert ">>> " in path.read_text(encoding="utf-8")


def test_rules_table_lists_exactly_the_rules_in_code() -> None:
    """docs/rules.md has one row per rule in micrograd.rules.RULES, and no other."""
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \|", text, flags=re.MULTILINE)
    assert sorted(rows) == sorted(RULES)
    assert len(rows) == len(set(rows))


def test_pages_name_no_issue_of_the_tracker() -> None:
    """Pages are written for users: none refers to an issue of the project's tracker by number."""
    pages = [*DOCUMENTS, ROOT / "docs" / "micrograd_from_scratch.ipynb"]
    for path in pages:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bissue\s*#?\d+|#\d+\b", text, flags=re.IGNORECASE), path.name


def test_api_pages_oracle_example_runs(tmp_path: Path) -> None:
    """The API page's Python example of the oracle runs as written, on a correct engine.

    One check (``add``) instead of all of them keeps it quick; the calls are the page's.
    """
    pytest.importorskip("hypothesis")
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = text[text.index("## The grading oracle") :]
    example = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert example is not None
    code = example.group(1).replace("Options(seed=0)", 'Options(seed=0, only=frozenset({"add"}))')
    assert code != example.group(1)
    shutil.copy(
        ROOT / "tests" / "oracle" / "engines" / "correct_closures.py", tmp_path / "engine.py"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "micrograd-ref check engine.py" in done.stdout
    assert "\nTrue\n{'passed': 1," in done.stdout
    assert "\nadd passed " in done.stdout


def test_tutorial_draws_labelled_points_only_through_micrograd_viz() -> None:
    """The tutorial's pictures of labelled points come from micrograd.viz, in the demo's colours.

    A scatter or colour map of its own is how +1 came out red in one plot and
    blue in the next; plot_points and plot_decision_boundary share one palette.
    """
    notebook = json.loads((ROOT / "docs" / "micrograd_from_scratch.ipynb").read_text("utf-8"))
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    assert not re.search(r"\.scatter\(|cmap=|c=y\b", code)
    assert "plot_points(" in code
    assert "plot_decision_boundary(" in code


class TestInstallInstructions:
    """Pages install micrograd-ref from a clone or a wheel: it is not on a package index yet."""

    def test_installing_by_name_is_said_to_wait_for_publication(self) -> None:
        """Installing micrograd-ref by name is only ever said to work "once it is published"."""
        by_name = re.compile(r"""pip\s+install\s+['"]?micrograd-ref\b""")
        found = 0
        for path in [*DOCUMENTS, ROOT / "CONTRIBUTING.md"]:
            text = path.read_text(encoding="utf-8")
            for match in by_name.finditer(text):
                found += 1
                sentence = " ".join(text[: match.start()].split()).rsplit(". ", 1)[-1]
                assert "once it is published" in sentence.lower(), (path.name, sentence)
        assert found >= 3  # the README's, the API page's, the guides' "once it is published"
