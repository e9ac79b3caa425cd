"""What every report of a run says, in any format: reproducers, the rerun command, the summary.

The formats themselves (the text table, JSON, Gradescope's results.json) are in
:mod:`micrograd.oracle.formats`, one module each.
"""

from __future__ import annotations

import shlex

from micrograd.oracle.reproducer import render
from micrograd.oracle.suite import CheckResult, SuiteResult

__all__ = ["plural", "reproducer", "rerun_command", "root_cause", "summary"]


def reproducer(suite: SuiteResult, check: CheckResult) -> str | None:
    """The Python to paste for a check that did not pass, or None."""
    if check.status in ("passed", "unsupported", "not_graded"):
        return None
    if check.reproducer is not None or check.program is None:
        return check.reproducer
    raised = check.got is not None and "error" in check.got
    note = {
        "timeout": "this hangs (or takes longer than the timeout)",
        "error": "this raises or crashes",
        "failed": "this raises" if raised else "this gives a wrong number",
    }[check.status]
    if check.got is not None and check.got.get("phase") == "read":
        note = "the grader cannot read this graph's numbers"
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
    """The command line that reruns this run (or one check of it) with the same cases.

    A run from an assignment file reruns with that file, which holds its
    seed, cases, limits and conventions.
    """
    options, target = suite.options, suite.target
    words = ["micrograd-ref", "check"]
    words += ["--cmd", target.location] if target.kind == "command" else [target.spec]
    if options.assignment:
        words += ["--assignment", options.assignment]
    else:
        words += ["--seed", str(options.seed), "--max-examples", str(options.max_examples)]
        words += ["--timeout", f"{options.timeout:g}"]
        if options.strict:
            words.append("--strict")
        if target.backward != "backward":
            words += ["--backward", target.backward]
        if target.leaf_kwargs:
            pairs = ",".join(f"{key}={value!r}" for key, value in target.leaf_kwargs)
            words += ["--leaf-kwargs", pairs]
    for path in target.paths:
        words += ["--path", path]
    if options.require:
        words += ["--require", ",".join(sorted(options.require))]
    if not options.use_torch:
        words.append("--no-torch")
    if target.nn is not None:
        words += ["--nn", target.nn.spec]
    if check is not None:
        words += ["--only", check]
    return shlex.join(words)


def plural(n: int, word: str) -> str:
    """``1 check``, ``2 checks``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(suite: SuiteResult) -> str:
    """The verdict, the counts by status and the time; the edge group's line unless strict."""
    counts = suite.counts()
    parts = [f"{n} {status.replace('_', ' ')}" for status, n in counts.items() if n]
    verdict = "PASSED" if suite.passed else "FAILED"
    missing = counts.get("unsupported", 0)
    if suite.passed and missing:  # nothing wrong, but not everything there: say so first
        verdict += f" ({plural(missing, 'op')} missing)"
    checks = plural(len(suite.counted()), "check")
    line = f"{verdict}: {checks}, {', '.join(parts)} in {suite.seconds:.1f} s"
    edge = suite.edge()
    if edge and not suite.options.strict:
        ok = sum(c.status == "passed" for c in edge)
        line += f"\nedge group: {ok} of {len(edge)} passed (not counted; --strict counts them)"
    return line


def root_cause(suite: SuiteResult) -> str:
    """The root cause and its reproducer, as the top of a results file, or ""."""
    if suite.cause is None:
        return ""
    return f"ROOT CAUSE: {suite.cause.message}\n\n{reproducer(suite, suite.cause)}\n\n"
