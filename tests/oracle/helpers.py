"""Shared pieces of the oracle's tests: the engines folder and a cached grading run."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from micrograd.oracle.runner import parse_target
from micrograd.oracle.suite import Options, SuiteResult, run_suite

ENGINES = Path(__file__).resolve().parent / "engines"
"""Students' engines: ``correct_*`` pass, ``bug_*`` have a planted bug, ``load_*`` do not load."""

FAST = Options(max_examples=30, use_torch=False)
"""Fewer cases and no PyTorch: what the planted bugs need, at a third of the time."""


def engine(name: str, class_name: str = "Value") -> str:
    """The ``check`` target of ``engines/<name>.py``."""
    return f"{ENGINES / name}.py:{class_name}"


@cache
def graded(target: str, options: Options = FAST) -> SuiteResult:
    """The oracle's verdict on ``target``, computed once per test session."""
    return run_suite(parse_target(target), options)


def not_passed(suite: SuiteResult) -> dict[str, str]:
    """``{check: status}`` for every check that neither passed nor was unsupported."""
    return {c.name: c.status for c in suite.checks if c.status not in ("passed", "unsupported")}
