"""Reports of a run: the text table with reproducers, the JSON report, Gradescope's results.json."""

from __future__ import annotations

import shlex
from typing import Any

from micrograd.oracle.reproducer import render
from micrograd.oracle.suite import CheckResult, SuiteResult

__all__ = ["gradescope", "gradescope_error", "reproducer", "rerun_command", "table", "to_json"]


def reproducer(suite: SuiteResult, check: CheckResult) -> str | None:
    """The Python to paste for a check that did not pass, or None."""
    if check.status in ("passed", "unsupported"):
        return None
    if check.reproducer is not None or check.program is None:
        return check.reproducer
    raised = check.got is not None and "error" in check.got
    note = {
        "timeout": "this hangs (or takes longer than the timeout)",
        "error": "this raises or crashes",
        "failed": "this raises" if raised else "this gives a wrong number",
    }[check.status]
    if check.status != "failed" and check.got is None:
        note += f": {check.message}"
    return render(
        suite.target,
        check.program,
        check.want,
        check.got,
        tolerance=suite.options.tolerance,
        note=note,
    )


def rerun_command(suite: SuiteResult, check: str | None = None) -> str:
    """The command line that reruns this run (or one check of it) with the same cases."""
    options = suite.options
    words = ["micrograd-ref", "check", suite.target.spec, "--seed", str(options.seed)]
    words += ["--max-examples", str(options.max_examples), "--timeout", f"{options.timeout:g}"]
    for path in suite.target.paths:
        words += ["--path", path]
    if options.require:
        words += ["--require", ",".join(sorted(options.require))]
    if not options.use_torch:
        words.append("--no-torch")
    if suite.target.nn is not None:
        words += ["--nn", suite.target.nn.spec]
    if check is not None:
        words += ["--only", check]
    return shlex.join(words)


def _summary(suite: SuiteResult) -> str:
    counts = suite.counts()
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    verdict = "PASSED" if suite.passed else "FAILED"
    return f"{verdict}: {len(suite.checks)} checks, {', '.join(parts)} in {suite.seconds:.1f} s"


def table(suite: SuiteResult) -> str:
    """The human-readable report: header, one row per check, summary, then reproducers."""
    rows = [("check", "op", "status", "message")]
    rows += [(c.name, c.op, c.status, c.message) for c in suite.checks]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [
        f"micrograd-ref check {suite.target.spec} (class {suite.loaded})",
        f"seed {suite.options.seed}, {suite.options.max_examples} cases per check, "
        f"timeout {suite.options.timeout:g} s per check",
        f"tolerance: {suite.options.tolerance.describe()}",
        "",
    ]
    for i, row in enumerate(rows):
        cells = [row[j].ljust(widths[j]) for j in range(3)]
        lines.append("  ".join([*cells, row[3]]).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths) + "  -------")
    lines += ["", _summary(suite)]
    for check in suite.checks:
        code = reproducer(suite, check)
        if code is None:
            continue
        lines += ["", f"--- {check.name} ({check.op}): {check.status}: {check.message}"]
        lines += ["", code]
        trace = check.got.get("trace") if check.got else None
        if trace:
            lines += ["", "where your code raised it:", trace.rstrip()]
        if check.output:
            lines += ["", "your engine printed:", _indent(check.output[:1000])]
        lines += ["", f"rerun: {rerun_command(suite, check.name)}"]
    return "\n".join(lines) + "\n"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def to_json(suite: SuiteResult) -> dict[str, Any]:
    """The machine-readable report (``--json``)."""
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
        "summary": suite.counts(),
        "seconds": round(suite.seconds, 3),
        "rerun": rerun_command(suite),
        "checks": [
            {
                "name": c.name,
                "op": c.op,
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


def gradescope(suite: SuiteResult) -> dict[str, Any]:
    """Gradescope's ``results.json``: one point per check.

    An unsupported op that is not required is worth 0 points (``max_score``
    0), so it neither adds nor costs anything; its output says so.
    """
    tests = []
    for c in suite.checks:
        counted = c.status != "unsupported"
        output = f"{c.status}: {c.message}"
        code = reproducer(suite, c)
        if code:
            output += f"\n\nTo see it yourself:\n\n{code}\n"
        if not counted:
            output += "\n(not graded: this op is optional)"
        tests.append(
            {
                "name": f"{c.name}: {c.op}",
                "score": 1.0 if c.status == "passed" else 0.0,
                "max_score": 1.0 if counted else 0.0,
                "status": "passed" if c.status in ("passed", "unsupported") else "failed",
                "output": output,
                "visibility": "visible",
            }
        )
    return {
        "score": sum(t["score"] for t in tests),
        "max_score": sum(t["max_score"] for t in tests),
        "output": _summary(suite) + "\n" + rerun_command(suite),
        "visibility": "visible",
        "tests": tests,
    }


def gradescope_error(message: str) -> dict[str, Any]:
    """Gradescope's ``results.json`` for a run that could not grade anything."""
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
