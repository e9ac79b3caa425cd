"""The planted bugs: each is the correct lecture-style engine with one mistake written in.

The oracle's tests check that every one is caught, on the right check. A bug
is a short list of edits to ``engines/correct_closures.py``, so the engine
itself is written once; :func:`planted` writes the buggy engines out as
files, the way students hand them in.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import NamedTuple

CORRECT = Path(__file__).resolve().parent / "engines" / "correct_closures.py"
"""The engine every bug starts from."""


class Bug(NamedTuple):
    """One planted bug: what is wrong, and the edits that put it in."""

    summary: str
    """The mistake, in a sentence; the buggy engine's docstring."""
    edits: tuple[tuple[str, str], ...]
    """``(text of the correct engine, what replaces it)``; each text occurs there once."""


def _bug(summary: str, *edits: tuple[str, str]) -> Bug:
    return Bug(summary, edits)


def _assign(op: str, line: str) -> Bug:
    """The lecture's slip: ``=`` instead of ``+=`` in ``op``'s backward, on ``line``."""
    return _bug(
        f"{op}'s backward assigns (=) instead of accumulating (+=).",
        (line, line.replace(".grad += ", ".grad = ", 1)),
    )


BUGS: dict[str, Bug] = {
    "bug_exp_assign": _assign("exp", "            self.grad += out.data * out.grad\n"),
    "bug_log_assign": _assign("log", "            self.grad += (1 / self.data) * out.grad\n"),
    "bug_tanh_assign": _assign("tanh", "            self.grad += (1 - t ** 2) * out.grad\n"),
    "bug_relu_assign": _assign("relu", "            self.grad += (out.data > 0) * out.grad\n"),
    "bug_sigmoid_assign": _assign("sigmoid", "            self.grad += s * (1 - s) * out.grad\n"),
    "bug_pow_assign": _assign(
        "pow", "            self.grad += other * self.data ** (other - 1) * out.grad\n"
    ),
    "bug_pow_value_assign": _assign(
        "a ** b",
        "                self.grad += other.data * self.data ** (other.data - 1) * out.grad\n",
    ),
    "bug_add_assign": _bug(
        "add's backward assigns (=) instead of accumulating (+=).",
        (
            "            self.grad += out.grad\n            other.grad += out.grad\n",
            "            self.grad = out.grad\n            other.grad = out.grad\n",
        ),
    ),
    "bug_div_rule": _bug(
        "d/db (a / b) written as -a / b instead of -a / b**2.",
        (
            "        return self * other ** -1\n",
            "        other = other if isinstance(other, Value) else Value(other)\n"
            "        out = Value(self.data / other.data, (self, other), '/')\n"
            "\n"
            "        def _backward():\n"
            "            self.grad += (1 / other.data) * out.grad\n"
            "            other.grad += (-self.data / other.data) * out.grad\n"
            "        out._backward = _backward\n"
            "        return out\n",
        ),
    ),
    "bug_duplicate_visits": _bug(
        "the topological sort has no visited set, so shared nodes appear twice.",
        (
            "            if v not in visited:\n"
            "                visited.add(v)\n"
            "                for child in v._prev:\n"
            "                    build_topo(child)\n"
            "                topo.append(v)\n",
            "            for child in v._prev:\n"
            "                build_topo(child)\n"
            "            topo.append(v)\n",
        ),
    ),
    "bug_exp_rule": _bug(
        "exp'(x) written as x instead of exp(x).",
        (
            "            self.grad += out.data * out.grad\n",
            "            self.grad += self.data * out.grad\n",
        ),
    ),
    "bug_hang_all": _bug(
        "backward loops forever, for every graph.",
        (
            "        self.grad = 1\n",
            "        self.grad = 1\n        while True:\n            pass\n",
        ),
    ),
    "bug_hang_exp": _bug(
        "exp's backward loops forever.",
        (
            "            self.grad += out.data * out.grad\n",
            "            while True:\n                pass\n",
        ),
    ),
    "bug_log_rule": _bug(
        "log'(x) written as 1 / x**2.",
        (
            "            self.grad += (1 / self.data) * out.grad\n",
            "            self.grad += (1 / self.data ** 2) * out.grad\n",
        ),
    ),
    "bug_memory": _bug(
        "sigmoid tries to allocate 80 GB.",
        (
            "    def sigmoid(self):\n",
            "    def sigmoid(self):\n        hog = [0.0] * 10**10\n",
        ),
    ),
    "bug_mul_assign": _bug(
        "mul's backward assigns (=) instead of accumulating (+=).",
        (
            "            self.grad += other.data * out.grad\n"
            "            other.grad += self.data * out.grad\n",
            "            self.grad = other.data * out.grad\n"
            "            other.grad = self.data * out.grad\n",
        ),
    ),
    "bug_no_seed": _bug(
        "backward never sets the root's grad to 1.",
        (
            "        self.grad = 1\n",
            "",
        ),
    ),
    "bug_no_topo": _bug(
        "backward recurses into children without a topological order.",
        (
            "        topo = []\n        visited = set()\n",
            "        self.grad = 1\n        self._propagate()\n",
        ),
        (
            "        def build_topo(v):\n"
            "            if v not in visited:\n"
            "                visited.add(v)\n"
            "                for child in v._prev:\n"
            "                    build_topo(child)\n"
            "                topo.append(v)\n"
            "        build_topo(self)\n"
            "        self.grad = 1\n"
            "        for v in reversed(topo):\n"
            "            v._backward()\n",
            "    def _propagate(self):\n"
            "        self._backward()\n"
            "        for child in self._prev:\n"
            "            child._propagate()\n",
        ),
    ),
    "bug_no_upstream": _bug(
        "mul's backward forgets to multiply by out.grad.",
        (
            "            self.grad += other.data * out.grad\n"
            "            other.grad += self.data * out.grad\n",
            "            self.grad += other.data\n            other.grad += self.data\n",
        ),
    ),
    "bug_os_exit": _bug(
        "log's backward calls os._exit.",
        (
            "            self.grad += (1 / self.data) * out.grad\n",
            "            import os; os._exit(3)\n",
        ),
    ),
    "bug_pow_rule": _bug(
        "d/dx x**k written as k * x**k.",
        (
            "            self.grad += other * self.data ** (other - 1) * out.grad\n",
            "            self.grad += other * self.data ** other * out.grad\n",
        ),
    ),
    "bug_rdiv_flipped": _bug(
        "__rtruediv__ computes self / other instead of other / self.",
        (
            "        return other * self ** -1\n",
            "        return self * other ** -1\n",
        ),
    ),
    "bug_recursion": _bug(
        "__neg__ calls itself forever.",
        (
            "        return self * -1\n",
            "        return -self\n",
        ),
    ),
    "bug_relu_rule": _bug(
        "relu passes the gradient through for negative inputs too.",
        (
            "            self.grad += (out.data > 0) * out.grad\n",
            "            self.grad += 1 * out.grad\n",
        ),
    ),
    "bug_returns_float": _bug(
        "__add__ returns a plain float instead of a Value.",
        (
            "            other.grad += out.grad\n"
            "        out._backward = _backward\n"
            "        return out\n",
            "            other.grad += out.grad\n"
            "        out._backward = _backward\n"
            "        return out.data\n",
        ),
    ),
    "bug_rsub_flipped": _bug(
        "__rsub__ computes self - other instead of other - self.",
        (
            "        return other + (-self)\n",
            "        return self + (-other)\n",
        ),
    ),
    "bug_segfault": _bug(
        "tanh reads memory at address 0 and crashes the interpreter.",
        (
            "    def tanh(self):\n",
            "    def tanh(self):\n        import ctypes; ctypes.string_at(0)\n",
        ),
    ),
    "bug_sigmoid_rule": _bug(
        "sigmoid'(x) written as 1 - s instead of s * (1 - s).",
        (
            "            self.grad += s * (1 - s) * out.grad\n",
            "            self.grad += (1 - s) * out.grad\n",
        ),
    ),
    "bug_sys_exit": _bug(
        "relu calls sys.exit.",
        (
            "    def relu(self):\n",
            "    def relu(self):\n        import sys; sys.exit(1)\n",
        ),
    ),
    "bug_tanh_rule": _bug(
        "tanh'(x) written as 1 - tanh(x) instead of 1 - tanh(x)**2.",
        (
            "            self.grad += (1 - t ** 2) * out.grad\n",
            "            self.grad += (1 - t) * out.grad\n",
        ),
    ),
    "bug_mul_drops_input": _bug(
        "__mul__ records only self among the node's inputs, so the walk never reaches other's "
        "node; its closure still updates other, so a * b on two leaves is right.",
        (
            "        out = Value(self.data * other.data, (self, other), '*')\n",
            "        out = Value(self.data * other.data, (self,), '*')\n",
        ),
    ),
    "bug_wrong_order": _bug(
        "backward walks the topological order forwards instead of reversed.",
        (
            "        for v in reversed(topo):\n",
            "        for v in topo:\n",
        ),
    ),
    "bug_add_typo": _bug(
        "add wraps numbers behind a typo: isinstance(self, other) raises TypeError.",
        (
            "        other = other if isinstance(other, Value) else Value(other)\n"
            "        out = Value(self.data + other.data, (self, other), '+')\n",
            "        other = other if isinstance(self, other) else Value(other)\n"
            "        out = Value(self.data + other.data, (self, other), '+')\n",
        ),
    ),
    "bug_topo_preorder": _bug(
        "the topological sort appends a node before its children (reversed, leaves come first).",
        (
            "                visited.add(v)\n"
            "                for child in v._prev:\n"
            "                    build_topo(child)\n"
            "                topo.append(v)\n",
            "                visited.add(v)\n"
            "                topo.append(v)\n"
            "                for child in v._prev:\n"
            "                    build_topo(child)\n",
        ),
    ),
}
"""Every planted bug, by the name of its engine file."""


def edited(text: str, edits: Iterable[tuple[str, str]], what: str) -> str:
    """``text`` with each ``(old, new)`` of ``edits`` made in turn.

    Raises:
        ValueError: If an ``old`` does not occur exactly once in the text it
            edits (the engine changed under ``what``).
    """
    for old, new in edits:
        if text.count(old) != 1:
            raise ValueError(
                f"{what}: the edit's text occurs {text.count(old)} times, not once:\n{old}"
            )
        text = text.replace(old, new)
    return text


def source(name: str, correct: Path = CORRECT) -> str:
    """The text of the engine with the bug ``name`` written into ``correct``.

    Raises:
        ValueError: If an edit's text does not occur exactly once in the
            correct engine (the engine changed under the bug).
    """
    bug = BUGS[name]
    text = correct.read_text()
    first_line = text.splitlines(keepends=True)[0]
    text = text.replace(first_line, f'"""Planted bug: {bug.summary}"""\n', 1)
    return edited(text, bug.edits, name)


@cache
def planted() -> Path:
    """A folder holding every buggy engine as ``<name>.py``, written once per process."""
    folder = Path(tempfile.mkdtemp(prefix="micrograd-planted-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    for name in BUGS:
        (folder / f"{name}.py").write_text(source(name))
    return folder
