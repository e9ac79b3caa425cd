"""The machine-readable report of ``check --json``: every check, its numbers, reproducer, points."""

from __future__ import annotations

import json
from typing import Any

from micrograd.oracle.report import reproducer, rerun_command
from micrograd.oracle.scoring import Graded
from micrograd.oracle.suite import SuiteResult

__all__ = ["render"]


def render(graded: Graded) -> str:
    """The report of a graded run (or of one that could not load), as JSON text."""
    points = {s.name: s for s in graded.scores}
    score = {
        "score": graded.score,
        "max_score": graded.max_score,
        "assignment": graded.assignment.source or None,
        "sandboxed": graded.sandboxed,
        "points": {s.name: {"points": s.points, "max_points": s.max_points} for s in graded.scores},
    }
    data: dict[str, Any]
    if graded.suite is None:
        data = {"passed": False, "error": graded.error, "checks": [], **score}
    else:
        data = {**_report(graded.suite), **score}
        for check in data["checks"]:
            counted = points.get(check["name"])
            check["points"] = None if counted is None else counted.points
    return json.dumps(data, indent=2) + "\n"


def _report(suite: SuiteResult) -> dict[str, Any]:
    return {
        "passed": suite.passed,
        "target": suite.target.spec,
        "class": suite.loaded,
        "seed": suite.options.seed,
        "max_examples": suite.options.max_examples,
        "timeout": suite.options.timeout,
        "tolerance": {
            "rel_tol": suite.options.tolerance.rel_tol,
            "abs_tol": suite.options.tolerance.abs_tol,
            "rule": suite.options.tolerance.describe(),
        },
        "strict": suite.options.strict,
        "summary": suite.counts(),
        "root_cause": None
        if suite.cause is None
        else {"message": suite.cause.message, "reproducer": reproducer(suite, suite.cause)},
        "placeholders": suite.placeholders,
        "skipped_cells": [{"cell": cell, "error": error} for cell, error in suite.skipped_cells],
        "seconds": round(suite.seconds, 3),
        "rerun": rerun_command(suite),
        "checks": [
            {
                "name": c.name,
                "op": c.op,
                "group": "edge" if c in suite.edge() else "main",
                "status": c.status,
                "message": c.message,
                "reproducer": reproducer(suite, c),
                "program": None if reproducer(suite, c) is None else c.program,
                "cases": c.cases,
                "not_graded": c.excluded,
                "mismatches": [
                    {"quantity": m.quantity, "expected": m.want, "got": m.got} for m in c.found
                ],
                "output": c.output,
                "seconds": round(c.seconds, 3),
            }
            for c in suite.checks
        ],
    }
