"""Reproducers: a failing program as a few lines of Python, with the expected numbers beside.

For a port graded over stdio, the program as its adapter receives it, then
the same lines as pseudo-code to translate.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from micrograd.oracle.compare import Tolerance, register_name
from micrograd.oracle.runner import Target
from micrograd.oracle.wire import wire

__all__ = ["render"]

Program = dict[str, Any]

_MIN_REPEATS = 4  # a step repeated at least this often becomes a for loop
_MAX_JSON = 600  # a port's program longer than this, as JSON, is left to the JSON report


def _pattern(instruction: list[Any], previous: int) -> tuple[Any, ...] | None:
    """The instruction with its use of the previous register abstracted, if it uses it first."""
    kind = instruction[0]
    chained = instruction[3] if kind == "rnum" else instruction[2]
    if chained != previous:
        return None
    if kind == "rnum":
        return (kind, instruction[1], instruction[2])
    return (kind, instruction[1], *instruction[3:])


def _run_length(ops: list[list[Any]], start: int, n_leaves: int, period: int) -> int:
    """How many times the ``period`` instructions at ``start`` repeat, each chained on the last."""
    patterns = []
    for i in range(start, len(ops)):
        p = _pattern(ops[i], n_leaves + i - 1)
        if p is None:
            break
        patterns.append(p)
    repeats = 1
    while (repeats + 1) * period <= len(patterns) and (
        patterns[repeats * period : (repeats + 1) * period] == patterns[:period]
    ):
        repeats += 1
    return repeats if len(patterns) >= period else 0


def _expression(instruction: list[Any], names: list[str]) -> str:
    kind, name, a = instruction[0], instruction[1], instruction[2]
    if kind == "bin":
        return f"{names[a]} {name} {names[instruction[3]]}"
    if kind == "lnum":
        return f"{names[a]} {name} {instruction[3]!r}"
    if kind == "rnum":
        return f"{a!r} {name} {names[instruction[3]]}"
    if name == "neg":
        return f"-{names[a]}"
    return f"{names[a]}.{name}()"


def _lines(program: Program, target: Target, stop: int | None) -> tuple[list[str], list[str]]:
    """The statements building registers up to ``stop`` (all when None), and register names.

    A register inside a compressed loop has the loop variable's name until the
    loop's end, so only its last value is reachable; such names end in ``*``.
    """
    n_leaves = len(program["leaves"])
    ops: list[list[Any]] = program["ops"]
    names = [register_name(i) for i in range(n_leaves + len(ops))]
    lines = [f"{names[i]} = {target.leaf(repr(x))}" for i, x in enumerate(program["leaves"])]
    end = len(ops) if stop is None else stop - n_leaves + 1
    i = 0
    while i < end:
        loop = None
        for period in (1, 2):
            repeats = _run_length(ops, i, n_leaves, period) if i > 0 else 0
            if repeats >= _MIN_REPEATS and i + repeats * period <= end:
                loop = (period, repeats)
                break
        if loop is None:
            lines.append(f"{names[n_leaves + i]} = {_expression(ops[i], names)}")
            i += 1
            continue
        period, repeats = loop
        var = names[n_leaves + i - 1]
        lines.append(f"for _ in range({repeats}):")
        for j in range(period):
            names[n_leaves + i + j] = var
            lines.append(f"    {var} = {_expression(ops[i + j], names)}")
        for k in range(i, i + repeats * period):
            names[n_leaves + k] = var + "*"
        names[n_leaves + i + repeats * period - 1] = var
        i += repeats * period
    return lines, names


def _port_header(program: Program) -> list[str]:
    """For a port: the program as its adapter receives it, then the pseudo-code's title."""
    sent = json.dumps(wire(program))
    if len(sent) > _MAX_JSON:
        sent = f"({len(program['ops'])} instructions: in the report that --json writes)"
    return [
        "# the program, as your adapter receives it:",
        f"# {sent}",
        "# in pseudo-code, to write with your engine:",
    ]


def render(
    target: Target,
    program: Program,
    want: dict[str, Any] | None,
    got: dict[str, Any] | None,
    *,
    tolerance: Tolerance,
    note: str = "",
) -> str:
    """Python to paste: builds ``program`` with the student's class and prints what differs.

    Args:
        target: The student's engine, for the import line.
        program: The failing program.
        want: The reference's result (None when unknown).
        got: The student's result: numbers, an ``error`` (the raising line is
            marked), or None after a timeout or a crash (``note`` says which).
        tolerance: How numbers are compared, to mark the wrong ones.
        note: A comment for the first line.
    """
    header = [f"# {line}" for line in textwrap.wrap(note, 78)]
    port = target.kind == "command"
    header += _port_header(program) if port else target.import_line().splitlines()
    error = got.get("error") if got else None
    stop = None
    if error and got is not None and got.get("phase") == "forward":
        stop = int(got["step"])
    lines, names = _lines(program, target, stop)
    if stop is not None:
        lines[-1] += f"  # raises {error}"
        return "\n".join([*header, "", *lines])
    root = names[-1]
    backward = [target.backward_call(root)] * program.get("backward_calls", 1)
    if error and got is not None and got.get("phase") == "read":
        # Nothing of theirs raised: the grader could not read a number from their nodes.
        reads = [f"{root}.data", *(f"{names[i]}.grad" for i in range(len(program["leaves"])))]
        shown = [f'print("{text} =", repr({text}))' for text in reads]
        shown[0] += f"  # the grader reads these as numbers: {error}"
        return "\n".join([*header, "", *lines, *backward, *shown])
    if error:
        backward[-1] += f"  # raises {error}"
    out = [*header, "", *lines, *backward]
    if error or want is None:
        return "\n".join(out)
    n_leaves = len(program["leaves"])
    quantities: list[tuple[str, float, float | None]] = []
    for i in range(n_leaves, len(names) - 1):  # wrong intermediate values, where printable
        w, g = want["data"][i], got["data"][i] if got else None
        if g is not None and not tolerance.close(g, w) and not names[i].endswith("*"):
            quantities.append((f"{names[i]}.data", w, g))
    quantities.append((f"{root}.data", want["data"][-1], got["data"][-1] if got else None))
    for i in range(n_leaves):
        quantities.append((f"{names[i]}.grad", want["grads"][i], got["grads"][i] if got else None))
    for text, w, g in quantities:
        wrong = g is not None and not tolerance.close(g, w)
        if port:
            line = f"{text}  # expected {w!r}" + (f", yours {g!r}  <-- wrong" if wrong else "")
        else:
            line = f'print("{text} =", {text}, "expected", {w!r})' + ("  # <-- wrong" * wrong)
        out.append(line)
    return "\n".join(out)
