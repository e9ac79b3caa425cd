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


def reply_forger(payload: str, announced: str = "") -> str:
    """Student code that sends the grader a message of its own: ``payload`` is a bytes expression.

    It finds the pipe the grader reads as a hostile submission would, the one
    descriptor open for writing to a pipe, and writes a message whose header
    announces ``announced`` bytes (an int expression; default: the payload's length).
    """
    return (
        "import fcntl, os, stat, struct\n"
        "for _fd in range(3, 256):\n"
        "    try:\n"
        "        _pipe = stat.S_ISFIFO(os.fstat(_fd).st_mode)\n"
        "    except OSError:\n"
        "        continue\n"
        "    if _pipe and fcntl.fcntl(_fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:\n"
        f"        os.write(_fd, struct.pack('!i', {announced or f'len({payload})'}) + {payload})\n"
        "        break\n"
    )


def like_windows(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Take away what Windows lacks: process groups, sessions, descriptors passed to a child.

    ``subprocess.Popen`` then refuses ``pass_fds`` and ``start_new_session`` (Windows
    has neither) and records each command it starts, in the list returned.
    """
    popen = subprocess.Popen
    started: list[list[str]] = []

    def windows_popen(args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        assert not kwargs.get("pass_fds"), "pass_fds not supported on Windows"
        assert not kwargs.get("start_new_session"), "no sessions on Windows"
        started.append(args)
        return popen(args, **kwargs)

    monkeypatch.delattr(os, "killpg")
    monkeypatch.setattr(subprocess, "Popen", windows_popen)
    return started


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
