"""The machine-readable report of ``check --json``: every check with its numbers and reproducer."""

from __future__ import annotations

import json
from typing import Any

from micrograd.oracle.report import reproducer, rerun_command
from micrograd.oracle.suite import SuiteResult

__all__ = ["render", "render_error"]


def render(suite: SuiteResult) -> str:
    """The report of a run, as JSON text."""
    return _dump(_report(suite))


def render_error(message: str) -> str:
    """The report of a run that could not grade anything (the engine did not load)."""
    return _dump({"passed": False, "error": message, "checks": []})


def _dump(data: dict[str, Any]) -> str:
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
