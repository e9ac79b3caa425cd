"""Gradescope's ``results.json``: one test per counted check, with its points and reproducer.

Fields as Gradescope's autograder specification lists them: a top-level
``score``, ``max_score``, ``execution_time``, ``output`` and
``output_format``; per test ``name``, ``score``, ``max_score``, ``status``
(so that a test worth 0 points never shows as passed), ``output`` in
Markdown and ``visibility`` (from the assignment file).
"""

from __future__ import annotations

import json
from typing import Any

from micrograd.oracle.report import reproducer, rerun_command, root_cause, summary
from micrograd.oracle.scoring import CheckScore, Graded

__all__ = ["render"]


def render(graded: Graded) -> str:
    """Gradescope's results file for a graded run (or one that could not load), as JSON text."""
    tests = [_test(graded, s) for s in graded.scores]
    if graded.suite is None:
        output = f"The engine could not be graded:\n\n```text\n{graded.error}\n```\n"
        output += f"\nSandboxed: {'yes' if graded.sandboxed else 'no'}.\n"
    else:
        output = _fenced(root_cause(graded.suite) + summary(graded.suite))
        output += (
            f"\nSandboxed: {'yes' if graded.sandboxed else 'no'}.\n"
            f"\nTo run these checks yourself:\n\n```console\n{rerun_command(graded.suite)}\n```\n"
        )
    return (
        json.dumps(
            {
                "score": graded.score,
                "max_score": graded.max_score,
                "execution_time": round(graded.seconds),
                "output": output,
                "output_format": "md",
                "visibility": graded.assignment.visibility,
                "tests": tests,
            },
            indent=2,
        )
        + "\n"
    )


def _fenced(text: str) -> str:
    return f"```text\n{text.rstrip()}\n```\n"


def _test(graded: Graded, score: CheckScore) -> dict[str, Any]:
    """One Gradescope test for one counted check."""
    result = score.result
    op = "" if result is None else f": {result.op}"
    if result is None:
        output = score.reason
    else:
        output = f"**{result.status.replace('_', ' ')}**: {result.message}"
        if score.reason and result.status != "failed":
            output += f"\n\n({score.reason})"
        assert graded.suite is not None  # a check with a result ran in a suite
        code = reproducer(graded.suite, result)
        if code:
            output += f"\n\nTo see it yourself:\n\n```python\n{code.rstrip()}\n```"
    return {
        "name": f"{score.name}{op}",
        "score": score.points,
        "max_score": score.max_points,
        "status": "passed" if score.status == "passed" else "failed",
        "output": output,
        "output_format": "md",
        "visibility": graded.assignment.visibility_of(score.name),
    }
