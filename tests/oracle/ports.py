"""The ports under ``examples/ports/``, their planted bugs, and how to build and run each.

A bug is a list of text edits to a port's engine, as in :mod:`tests.oracle.planted`;
:func:`adapter_command` writes the engine (edited or not) under a folder of
the tests' own and gives the command that grades it. C and Rust are compiled
there, never in the tree.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

EXAMPLES: Final = Path(__file__).resolve().parents[2] / "examples" / "ports"
"""The adapters and engines shipped as examples."""

Edits = tuple[tuple[str, str], ...]

JS_BUGS: Final[dict[str, Edits]] = {
    "assign": (("c.grad += v._localGrads[i]", "c.grad = v._localGrads[i]"),),
    "tanh_rule": (("[1 - t * t]", "[1 - t]"),),
    "rsub_swapped": (("return this.neg().add(c); } // c - this", "return this.add(-c); }"),),
    "pow_rule": (("[other * this.data ** (other - 1)]", "[other * this.data ** other]"),),
    "log_rule": (("[1 / this.data]", "[this.data]"),),
    "wrong_order": (("for (const v of order.reverse())", "for (const v of order)"),),
    "no_seed": (("    this.grad = 1;\n", "    this.grad = 0;\n"),),
    "hang_exp": (("  exp() {", "  exp() { for (;;) {}"),),
    "crash_log": (("  log() {", "  log() { process.exit(3);"),),
    "throws_sigmoid": (("  sigmoid() {", "  sigmoid() { throw new RangeError('no sigmoid yet');"),),
}
"""Planted bugs of the JavaScript engine, by name: edits to ``js/engine.js``."""

C_BUGS: Final[dict[str, Edits]] = {
    "assign": (("tape[tape[i].child[k]].grad += ", "tape[tape[i].child[k]].grad = "),),
    "tanh_rule": (("1 - t * t", "1 - t"),),
    "sub_sign": (("a, 1, b, -1); }", "a, 1, b, 1); }"),),
    "pow_rule": (("k * pow(x, k - 1)", "k * pow(x, k)"),),
    "exp_rule": (("return node(e, a, e, -1, 0);", "return node(e, a, tape[a].data, -1, 0);"),),
    "wrong_order": (("i = root; i >= 0; i--) /* from the root down */", "i = 0; i <= root; i++)"),),
    "no_seed": (("tape[root].grad = 1;", "tape[root].grad = 0;"),),
    "hang_exp": (("  double e = exp(tape[a].data);", "  for (;;) {}\n  double e = 0;"),),
    "crash_log": (("  return node(log(x)", "  abort();\n  return node(log(x)"),),
}
"""Planted bugs of the C engine, by name: edits to ``c/engine.c``."""


def tool(name: str) -> str:
    """The program ``name`` on PATH; a skip without it, except on CI, where it is required."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {name} is not on PATH: the ports' tests need it")
        pytest.skip(f"no {name} on PATH")
    return found


def edited(source: str, edits: Edits) -> str:
    """``source`` with each edit made; each text to replace must occur exactly once."""
    for old, new in edits:
        assert source.count(old) == 1, f"the edit {old!r} no longer applies"
        source = source.replace(old, new)
    return source


def js_command(folder: Path, edits: Edits = ()) -> str:
    """The adapter command of the JavaScript engine with ``edits``, written into ``folder``."""
    node = tool("node")
    engine = folder / "engine.js"
    engine.write_text(edited((EXAMPLES / "js" / "engine.js").read_text(), edits))
    return shlex.join([node, str(EXAMPLES / "js" / "adapter.js"), str(engine)])


def c_command(folder: Path, edits: Edits = (), main: str = "adapter") -> str:
    """The C ``main`` (``adapter`` or ``vectors``) built with the engine with ``edits``."""
    gcc = tool("gcc")
    engine = folder / "engine.c"
    engine.write_text(edited((EXAMPLES / "c" / "engine.c").read_text(), edits))
    program = folder / main
    source = str(EXAMPLES / "c" / f"{main}.c")
    include = ["-I", str(EXAMPLES / "c")]
    subprocess.run(
        [gcc, "-O2", "-Wall", *include, "-o", str(program), source, str(engine), "-lm"],
        check=True,
    )
    return shlex.quote(str(program))


def rust_command(folder: Path) -> str:
    """The Rust adapter and engine, compiled into ``folder``."""
    rustc = tool("rustc")
    program = folder / "adapter"
    subprocess.run(
        [
            rustc,
            "-O",
            "--edition",
            "2021",
            "-o",
            str(program),
            str(EXAMPLES / "rust" / "adapter.rs"),
        ],
        check=True,
        cwd=folder,
    )
    return shlex.quote(str(program))


def python_command(engine: Path) -> str:
    """The Python adapter's command for the engine in ``engine`` (its class Value)."""
    return shlex.join([sys.executable, str(EXAMPLES / "python" / "adapter.py"), str(engine)])
