"""The text report that ``micrograd-ref check`` prints: a table of checks, then reproducers."""

from __future__ import annotations

import textwrap
from typing import Final

from micrograd.oracle.report import plural, reproducer, rerun_command, summary
from micrograd.oracle.scoring import Graded
from micrograd.oracle.suite import CheckResult, SuiteResult

__all__ = ["WIDTH", "render", "sandbox_line"]

WIDTH: Final = 80
"""The text report fits a terminal this wide."""


def _wrap(text: str, indent: int = 0) -> list[str]:
    """``text`` wrapped to :data:`WIDTH`, continuation lines indented by ``indent``."""
    return textwrap.wrap(text, WIDTH, subsequent_indent=" " * indent, break_on_hyphens=False) or [
        ""
    ]


def sandbox_line(sandboxed: bool) -> str:
    """The header line saying whether the engine ran in the sandbox."""
    if sandboxed:
        return "sandbox: bubblewrap (no network; only the engine's own files visible)"
    return "sandbox: none (the engine ran with this user's files and network)"


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


def render(graded: Graded) -> str:
    """The human-readable report: header, root cause, one row per check, then reproducers.

    The run must have loaded (``graded.suite``); a load error is one line on stderr instead.
    """
    suite = graded.suite
    assert suite is not None, "a run that did not load has no table"
    options = suite.options
    lines = [
        *_wrap(f"micrograd-ref check {suite.target.describe()} (class {suite.loaded})", 4),
        f"seed {options.seed}, {plural(options.max_examples, 'case')} per check, "
        f"timeout {options.timeout:g} s per check",
        *_wrap(f"tolerance: {options.tolerance.describe()}", 4),
        sandbox_line(graded.sandboxed),
    ]
    if suite.placeholders:
        names = ", ".join(
            "micrograd (micrograd-ref's own package, which graded code may not use)"
            if name == "micrograd"
            else name
            for name in suite.placeholders
        )
        lines += _wrap(f"not installed here, imported as do-nothing placeholders: {names}", 4)
    for cell, error in suite.skipped_cells:
        lines += _wrap(f"code cell {cell} raised {error}; it defines nothing graded: skipped", 4)
    lines.append("")
    if suite.cause is not None:
        lines += _wrap(f"ROOT CAUSE: {suite.cause.message}", 4)
        lines += ["", *_code(suite, suite.cause), ""]
        lines += [*_wrap("The checks it breaks are marked 'not graded'."), ""]
    lines += _rows(suite)
    lines.append("")
    for line in (*summary(suite).splitlines(), _score(graded)):
        lines += _wrap(line, 4)
    for check in suite.checks:
        code = _code(suite, check)
        if not code:
            continue
        title = f"--- {check.name} ({check.op}): {check.status}: {check.message}"
        lines += ["", *_wrap(title, 4), "", *code]
        lines += ["", *_wrap(f"rerun: {rerun_command(suite, check.name)}", 4)]
    return "\n".join(lines) + "\n"


def _score(graded: Graded) -> str:
    """The score line: points out of the assignment's fixed total, and what lost them."""
    lost = sum(s.max_points - s.points for s in graded.scores if s.status != "passed")
    missing = sum(s.max_points for s in graded.scores if s.status == "unsupported")
    line = f"score: {graded.score:g} of {graded.max_score:g} points"
    if graded.assignment.source:
        line += f" ({graded.assignment.source})"
    if missing:
        line += f"; {missing:g} of the {lost:g} lost are ops your engine does not have"
    for score in graded.scores:
        if score.status == "not_run" and score.reason != "not run":
            line += f"; {score.name} scores 0: {score.reason}"
    return line


def _code(suite: SuiteResult, check: CheckResult) -> list[str]:
    """The reproducer of ``check``, where the student's code raised, and what it printed."""
    code = reproducer(suite, check)
    if code is None:
        return []
    lines = [code]
    trace = check.got.get("trace") if check.got else None
    if trace:
        lines += ["", "where your code raised it:", suite.target.explain_trace(trace).rstrip()]
    if check.output.strip():
        lines += ["", "your engine printed:", _indent(check.output[:1000])]
    return lines


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
