"""A program as ports see it: its wire form and the names of its op forms.

The vectors file and the stdio protocol share both, so that a port reads
one program form whichever way it is graded (``docs/ports.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

__all__ = ["OPS", "form", "forms", "wire"]

Program = dict[str, Any]

_NAMES: Final = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow"}

OPS: Final = (
    *_NAMES.values(),
    *(f"{name}_number" for name in _NAMES.values()),
    *(f"r{name}" for name in _NAMES.values()),
    "neg",
    "exp",
    "log",
    "tanh",
    "relu",
    "sigmoid",
)
"""Every op form an instruction can take, by name: ``add`` is ``a + b``, ``add_number`` is
``a + 2``, ``radd`` is ``2 + a``, ``neg`` is ``-a``, ``tanh`` is ``a.tanh()``. A port's adapter
lists the ones it has; each vector case lists the ones it needs."""


def form(instruction: Sequence[Any]) -> str:
    """The name in :data:`OPS` of the op form ``instruction`` applies."""
    kind, name = instruction[0], instruction[1]
    if kind == "un":
        return str(name)
    suffix = {"bin": "", "lnum": "_number", "rnum": ""}[kind]
    return ("r" if kind == "rnum" else "") + _NAMES[name] + suffix


def forms(program: Program) -> list[str]:
    """The op forms ``program`` uses, in the order of :data:`OPS`."""
    used = {form(instruction) for instruction in program["ops"]}
    return [name for name in OPS if name in used]


def wire(program: Program) -> dict[str, Any]:
    """``program`` as an adapter receives it (and as the vectors hold it).

    Always these four keys, in this order, so that an adapter in C can read
    them without looking at their names: ``leaves``, ``ops``,
    ``backward_calls``, ``root_grad``.
    """
    return {
        "leaves": program["leaves"],
        "ops": program["ops"],
        "backward_calls": program.get("backward_calls", 1),
        "root_grad": bool(program.get("root_grad")),
    }
