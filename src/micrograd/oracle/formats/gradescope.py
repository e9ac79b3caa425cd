"""Gradescope's ``results.json``: one point per check, the reproducer in each test's output."""

from __future__ import annotations

import json
from typing import Any

from micrograd.oracle.report import reproducer, rerun_command, root_cause, summary
from micrograd.oracle.suite import SuiteResult

__all__ = ["render", "render_error"]


def render(suite: SuiteResult) -> str:
    """Gradescope's results file for a run, as JSON text."""
    return _dump(_results(suite))


def render_error(message: str) -> str:
    """Gradescope's results file for a run that could not grade anything."""
    return _dump(_error(message))


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2) + "\n"


def _results(suite: SuiteResult) -> dict[str, Any]:
    """Gradescope's ``results.json``: one point per check.

    An unsupported op that is not required is worth 0 points (``max_score``
    0), so it neither adds nor costs anything; its output says so.
    """
    tests = []
    main = suite.counted()
    for c in suite.checks:
        counted = c.status != "unsupported" and c in main
        output = f"{c.status.replace('_', ' ')}: {c.message}"
        code = reproducer(suite, c)
        if code:
            output += f"\n\nTo see it yourself:\n\n{code}\n"
        if c not in main:
            output += "\n(an edge input: reported, not graded)"
        elif not counted:
            output += "\n(not graded: this op is optional)"
        tests.append(
            {
                "name": f"{c.name}: {c.op}",
                "score": 1.0 if counted and c.status == "passed" else 0.0,
                "max_score": 1.0 if counted else 0.0,
                "status": "passed" if c.status in ("passed", "unsupported") else "failed",
                "output": output,
                "visibility": "visible",
            }
        )
    return {
        "score": sum(t["score"] for t in tests),
        "max_score": sum(t["max_score"] for t in tests),
        "output": root_cause(suite) + summary(suite) + "\n" + rerun_command(suite),
        "visibility": "visible",
        "tests": tests,
    }


def _error(message: str) -> dict[str, Any]:
    return {
        "score": 0.0,
        "max_score": 1.0,
        "output": message,
        "visibility": "visible",
        "tests": [
            {
                "name": "load the engine",
                "score": 0.0,
                "max_score": 1.0,
                "status": "failed",
                "output": message,
                "visibility": "visible",
            }
        ],
    }
