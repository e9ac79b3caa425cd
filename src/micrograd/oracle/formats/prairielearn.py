"""PrairieLearn's external grader ``results.json``: a score from 0 to 1, and one test per check.

Fields as PrairieLearn's external grading documentation lists them:
``gradable``, ``score`` (a fraction), ``message``, ``output`` and ``tests``,
each test with ``name``, ``description``, ``points``, ``max_points``,
``message`` and ``output``. An engine that cannot load is ``gradable:
false`` with the reason, so the student's attempt is not counted against them.
"""

from __future__ import annotations

import json

from micrograd.oracle.report import reproducer, summary
from micrograd.oracle.scoring import Graded

__all__ = ["render"]


def render(graded: Graded) -> str:
    """PrairieLearn's results file for a graded run (or one that could not load)."""
    if graded.suite is None:
        data: dict[str, object] = {
            "gradable": False,
            "score": 0.0,
            "message": f"The engine could not be loaded: {graded.error}",
            "output": f"{graded.error}\nsandboxed: {'yes' if graded.sandboxed else 'no'}",
            "tests": [],
        }
        return json.dumps(data, indent=2) + "\n"
    suite = graded.suite
    tests = []
    for score in graded.scores:
        result = score.result
        code = None if result is None else reproducer(suite, result)
        tests.append(
            {
                "name": score.name,
                "description": "" if result is None else result.op,
                "points": score.points,
                "max_points": score.max_points,
                "message": score.reason if result is None else result.message,
                "output": code or "",
            }
        )
    data = {
        "gradable": True,
        "score": graded.score / graded.max_score if graded.max_score else 0.0,
        "message": summary(suite),
        "output": ("" if suite.cause is None else f"ROOT CAUSE: {suite.cause.message}\n")
        + f"sandboxed: {'yes' if graded.sandboxed else 'no'}",
        "tests": tests,
    }
    return json.dumps(data, indent=2) + "\n"
