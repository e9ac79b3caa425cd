"""Shared pieces of the oracle's tests: the engines, a cached grading run, Karpathy's package."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from micrograd.oracle.runner import parse_target
from micrograd.oracle.suite import Options, SuiteResult, run_suite
from tests.oracle.planted import BUGS, planted

ENGINES = Path(__file__).resolve().parent / "engines"
"""Students' engines: ``correct_*`` pass, ``load_*`` do not load, ``nn_*`` are networks.

The ``bug_*`` engines, each with a planted bug, are written out by
:mod:`tests.oracle.planted`; :func:`engine_file` finds both kinds.
"""

FAST = Options(max_examples=30, use_torch=False)
"""Fewer cases and no PyTorch: what the planted bugs need, at a third of the time."""


def engine_file(name: str) -> Path:
    """The file of the engine ``name``: a planted bug's, or one in ``engines/``."""
    return planted() / f"{name}.py" if name in BUGS else ENGINES / f"{name}.py"


def engine(name: str, class_name: str = "Value") -> str:
    """The ``check`` target of the engine ``name``."""
    return f"{engine_file(name)}:{class_name}"


@cache
def graded(target: str, options: Options = FAST) -> SuiteResult:
    """The oracle's verdict on ``target``, computed once per test session."""
    return run_suite(parse_target(target), options)


def not_passed(suite: SuiteResult) -> dict[str, str]:
    """``{check: status}`` for every counted check that neither passed nor was unsupported.

    The edge group is left out (it is not counted unless the run is strict).
    """
    return {c.name: c.status for c in suite.counted() if c.status not in ("passed", "unsupported")}


def karpathy_micrograd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with Karpathy's micrograd (PyPI micrograd==0.1.0) as pip installs it, or a skip."""
    folder = tmp_path_factory.mktemp("karpathy")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(folder),
         "micrograd==0.1.0"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot install micrograd==0.1.0 from PyPI: {done.stderr.strip()[-200:]}")
    return folder
