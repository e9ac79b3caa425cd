"""Scores: a run's results as points out of the assignment's fixed total.

Every check the assignment counts is worth its points whether or not the
engine has the op: a missing op, a check not graded because something else
broke, and a submission that could not be loaded all score 0 of the same
total, so scores compare across students. Each check's score says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from micrograd.oracle.assignment import Assignment
from micrograd.oracle.suite import CheckResult, SuiteResult

__all__ = ["CheckScore", "Graded", "grade"]

_WHY: dict[str, str] = {
    "passed": "",
    "failed": "a value or gradient is wrong",
    "error": "the engine raised or crashed",
    "timeout": "the engine took too long",
    "unsupported": "the op is missing",
    "not_graded": "not graded: something it depends on is broken",
}


@dataclass(frozen=True)
class CheckScore:
    """One counted check: its points of ``max_points``, and why it lost them."""

    name: str
    """The check's name."""
    points: float
    """What it earned: all its points when it passed, else 0."""
    max_points: float
    """What it is worth in the assignment."""
    status: str
    """Its status (one of :data:`~micrograd.oracle.suite.STATUSES`), or ``not_run``."""
    reason: str = ""
    """Why it earned nothing ("" when it passed)."""
    result: CheckResult | None = None
    """The check's result, when it ran."""


@dataclass(frozen=True)
class Graded:
    """A submission graded against an assignment: the run (None if it did not load) and score."""

    assignment: Assignment
    """What counts, and its points."""
    suite: SuiteResult | None
    """The run, or None when the engine could not be loaded or graded at all."""
    error: str = ""
    """Why there is no run ("" when there is one)."""
    scores: list[CheckScore] = field(default_factory=list)
    """One per counted check, in the assignment's order."""
    seconds: float = 0.0
    """Wall time of the grading."""
    sandboxed: bool = False
    """Whether the engine ran in the sandbox (bubblewrap)."""

    @property
    def score(self) -> float:
        """The points earned."""
        return sum(s.points for s in self.scores)

    @property
    def max_score(self) -> float:
        """The assignment's fixed total."""
        return self.assignment.max_score


def grade(
    assignment: Assignment,
    suite: SuiteResult | None,
    error: str = "",
    seconds: float = 0.0,
    not_run: Mapping[str, str] | None = None,
    *,
    sandboxed: bool | None = None,
) -> Graded:
    """Score ``suite`` (or a submission that did not load, with ``error``) by ``assignment``.

    ``seconds`` is the time spent on a submission that did not load (a run has
    its own); ``not_run`` says why a check did not run (``nn_mlp``: no
    ``nn.py`` found), where the reason is not ``error`` or plain "not run".
    ``sandboxed`` defaults to the suite's option (False without a suite).
    """
    results = {} if suite is None else {r.name: r for r in suite.checks}
    why_not = {} if not_run is None else not_run
    scores = []
    for name, worth in assignment.counted().items():
        result = results.get(name)
        if result is None:
            reason = error or why_not.get(name, "not run")
            scores.append(CheckScore(name, 0.0, worth, "not_run", reason))
            continue
        earned = worth if result.status == "passed" else 0.0
        reason = _WHY[result.status]
        if result.status == "not_graded" and suite is not None and suite.cause is not None:
            reason = f"not graded: {suite.cause.message}"
        scores.append(CheckScore(name, earned, worth, result.status, reason, result))
    if suite is not None:
        seconds = suite.seconds
    if sandboxed is None:
        sandboxed = suite is not None and suite.options.sandbox
    return Graded(assignment, suite, error, scores, seconds, sandboxed)
