"""Shared pieces of the oracle's tests: the engines, a cached grading run, Karpathy's package."""

from __future__ import annotations

import operator
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from micrograd.oracle.runner import parse_target
from micrograd.oracle.suite import Options, SuiteResult, run_suite
from tests.oracle.planted import BUGS, planted
from tests.parity import NUMERIC, TORCH_DAG, agree
from tests.plain import Plain, central_differences

ENGINES = Path(__file__).resolve().parent / "engines"
"""Students' engines: ``correct_*`` pass, ``load_*`` do not load, ``nn_*`` are networks.

The ``bug_*`` engines, each with a planted bug, are written out by
:mod:`tests.oracle.planted`; :func:`engine_file` finds both kinds.
"""

FAST = Options(max_examples=30, use_torch=False)
"""Fewer cases and no PyTorch: what the planted bugs need, at a third of the time."""


def engine_file(name: str) -> Path:
    """The file of the engine ``name``: a planted bug's, or one in ``engines/``."""
    return planted() / f"{name}.py" if name in BUGS else ENGINES / f"{name}.py"


def engine(name: str, class_name: str = "Value") -> str:
    """The ``check`` target of the engine ``name``."""
    return f"{engine_file(name)}:{class_name}"


@cache
def graded(target: str, options: Options = FAST) -> SuiteResult:
    """The oracle's verdict on ``target``, computed once per test session."""
    return run_suite(parse_target(target), options)


def not_passed(suite: SuiteResult) -> dict[str, str]:
    """``{check: status}`` for every counted check that neither passed nor was unsupported.

    The edge group is left out (it is not counted unless the run is strict).
    """
    return {c.name: c.status for c in suite.counted() if c.status not in ("passed", "unsupported")}


def karpathy_micrograd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with Karpathy's micrograd (PyPI micrograd==0.1.0) as pip installs it, or a skip."""
    folder = tmp_path_factory.mktemp("karpathy")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(folder),
         "micrograd==0.1.0"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot install micrograd==0.1.0 from PyPI: {done.stderr.strip()[-200:]}")
    return folder


_SYMBOLS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
            "**": operator.pow}  # fmt: skip


def _plain_registers(program: dict[str, Any]) -> Callable[..., list[Plain]]:
    """The function from ``Plain`` leaves to every register of ``program``.

    The instructions are read here afresh, not by the oracle's interpreter.
    """

    def registers(*leaves: Plain) -> list[Plain]:
        out = list(leaves)
        for kind, name, *args in program["ops"]:
            if kind == "bin":
                out.append(_SYMBOLS[name](out[args[0]], out[args[1]]))
            elif kind == "lnum":
                out.append(_SYMBOLS[name](out[args[0]], args[1]))
            elif kind == "rnum":  # the number on the left: other ∘ self
                out.append(_SYMBOLS[name](args[0], out[args[1]]))
            elif name == "neg":
                out.append(-out[args[0]])
            else:
                out.append(getattr(out[args[0]], name)())
        return out

    return registers


def plain_disagreements(program: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """Where the oracle's expected result ``want`` differs from ``tests.plain`` on ``program``.

    The values come from :class:`tests.plain.Plain` (floats and ``math``, no
    engine code), the leaf gradients from its central differences (times the
    number of ``backward()`` calls, since leaves accumulate). A program marked
    ``convention`` sits on a kink, where central differences have no answer,
    so only its values are compared.
    """
    if "error" in want:
        return [f"the reference raised {want['error']}"]
    registers = _plain_registers(program)
    leaves: Sequence[float] = program["leaves"]
    data = [r.x for r in registers(*(Plain(x) for x in leaves))]
    found = [
        f"register {i}: expected {w!r}, plain {p!r}"
        for i, (w, p) in enumerate(zip(want["data"], data, strict=True))
        if not agree(w, p, TORCH_DAG)
    ]
    if program.get("convention"):
        return found
    calls = program.get("backward_calls", 1)
    estimates = central_differences(lambda *xs: registers(*xs)[-1], leaves)
    found += [
        f"leaf {i} grad: expected {w!r}, plain central differences {calls * e!r}"
        for i, (w, e) in enumerate(zip(want["grads"], estimates, strict=True))
        if not agree(w, calls * e, NUMERIC)
    ]
    if want["root_grad"] != (1.0 if program.get("root_grad") else None):
        found.append(f"root grad: expected {want['root_grad']!r}")
    return found
