"""Reports of a run: the text table with reproducers, the JSON report, Gradescope's results.json."""

from __future__ import annotations

import shlex
import textwrap
from typing import Any, Final

from micrograd.oracle.reproducer import render
from micrograd.oracle.suite import CheckResult, SuiteResult

__all__ = ["gradescope", "gradescope_error", "reproducer", "rerun_command", "table", "to_json"]

WIDTH: Final = 80
"""The text report fits a terminal this wide."""


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
    if options.strict:
        words.append("--strict")
    if not options.use_torch:
        words.append("--no-torch")
    if suite.target.backward != "backward":
        words += ["--backward", suite.target.backward]
    if suite.target.leaf_kwargs:
        pairs = ",".join(f"{key}={value!r}" for key, value in suite.target.leaf_kwargs)
        words += ["--leaf-kwargs", pairs]
    if suite.target.nn is not None:
        words += ["--nn", suite.target.nn.spec]
    if check is not None:
        words += ["--only", check]
    return shlex.join(words)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _summary(suite: SuiteResult) -> str:
    counts = suite.counts()
    parts = [f"{n} {status.replace('_', ' ')}" for status, n in counts.items() if n]
    verdict = "PASSED" if suite.passed else "FAILED"
    checks = _plural(len(suite.counted()), "check")
    line = f"{verdict}: {checks}, {', '.join(parts)} in {suite.seconds:.1f} s"
    edge = suite.edge()
    if edge and not suite.options.strict:
        ok = sum(c.status == "passed" for c in edge)
        line += f"\nedge group: {ok} of {len(edge)} passed (not counted; --strict counts them)"
    return line


def _wrap(text: str, indent: int = 0) -> list[str]:
    """``text`` wrapped to :data:`WIDTH`, continuation lines indented by ``indent``."""
    return textwrap.wrap(text, WIDTH, subsequent_indent=" " * indent, break_on_hyphens=False) or [
        ""
    ]


_EDGE_TITLE: Final = "edge inputs: reported apart, counted only with --strict"


def _rows(suite: SuiteResult) -> list[str]:
    """One row per check: its name, its status, then what it exercises and the message, wrapped.

    The edge group follows under a title of its own, unless the run is strict.
    """
    counted, edge = suite.counted(), [] if suite.options.strict else suite.edge()
    rows = [("check", "status", "op: message")]
    rows += [(c.name, c.status.replace("_", " "), f"{c.op}: {c.message}") for c in counted]
    if edge:
        rows.append(("", "", ""))
        rows.append((_EDGE_TITLE, "", ""))
        rows += [(c.name, c.status.replace("_", " "), f"{c.op}: {c.message}") for c in edge]
    widths = [max(len(r[i]) for r in rows if r[0] != _EDGE_TITLE) for i in range(2)]
    start = sum(widths) + 4
    lines = []
    for i, (name, status, text) in enumerate(rows):
        if name == _EDGE_TITLE or not name:
            lines.append(name)
            continue
        wrapped = textwrap.wrap(text, WIDTH - start, break_on_hyphens=False) or [""]
        lines.append(f"{name.ljust(widths[0])}  {status.ljust(widths[1])}  {wrapped[0]}".rstrip())
        lines += [" " * start + line for line in wrapped[1:]]
        if i == 0:
            lines.append(f"{'-' * widths[0]}  {'-' * widths[1]}  -----------")
    return lines


def table(suite: SuiteResult) -> str:
    """The human-readable report: header, root cause, one row per check, then reproducers."""
    options = suite.options
    lines = [
        *_wrap(f"micrograd-ref check {suite.target.describe()} (class {suite.loaded})", 4),
        f"seed {options.seed}, {_plural(options.max_examples, 'case')} per check, "
        f"timeout {options.timeout:g} s per check",
        *_wrap(f"tolerance: {options.tolerance.describe()}", 4),
    ]
    if suite.placeholders:
        missing = ", ".join(suite.placeholders)
        lines += _wrap(f"not installed here, imported as do-nothing placeholders: {missing}", 4)
    lines.append("")
    if suite.cause is not None:
        lines += _wrap(f"ROOT CAUSE: {suite.cause.message}", 4)
        lines += ["", *_code(suite, suite.cause), ""]
        lines += [*_wrap("The checks it breaks are marked 'not graded'."), ""]
    lines += _rows(suite)
    lines += ["", _summary(suite)]
    for check in suite.checks:
        code = _code(suite, check)
        if not code:
            continue
        title = f"--- {check.name} ({check.op}): {check.status}: {check.message}"
        lines += ["", *_wrap(title, 4), "", *code]
        lines += ["", *_wrap(f"rerun: {rerun_command(suite, check.name)}", 4)]
    return "\n".join(lines) + "\n"


def _code(suite: SuiteResult, check: CheckResult) -> list[str]:
    """The reproducer of ``check``, where the student's code raised, and what it printed."""
    code = reproducer(suite, check)
    if code is None:
        return []
    lines = [code]
    trace = check.got.get("trace") if check.got else None
    if trace:
        lines += ["", "where your code raised it:", suite.target.explain_trace(trace).rstrip()]
    if check.output:
        lines += ["", "your engine printed:", _indent(check.output[:1000])]
    return lines


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
        "strict": suite.options.strict,
        "summary": suite.counts(),
        "root_cause": None
        if suite.cause is None
        else {"message": suite.cause.message, "reproducer": reproducer(suite, suite.cause)},
        "placeholders": suite.placeholders,
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


def _cause(suite: SuiteResult) -> str:
    """The root cause and its reproducer, as the top of a results file, or ""."""
    if suite.cause is None:
        return ""
    return f"ROOT CAUSE: {suite.cause.message}\n\n{reproducer(suite, suite.cause)}\n\n"


def gradescope(suite: SuiteResult) -> dict[str, Any]:
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
        "output": _cause(suite) + _summary(suite) + "\n" + rerun_command(suite),
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
