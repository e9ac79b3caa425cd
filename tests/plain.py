"""A second, deliberately plain implementation of the ops on floats: the numeric witness's forward.

``Plain`` runs the catalogue's expressions and the random DAGs with every op
taken straight from float arithmetic and Python's ``math`` module. It shares
no code with micrograd, so an engine whose forward pass is wrong (an ``exp``
returning 2·eˣ, say, with the matching derivative 2·eˣ) disagrees with it on
the value, and its central differences disagree with the engine's gradient.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any


def _float(other: Plain | float) -> float:
    return other.x if isinstance(other, Plain) else float(other)


def _pow(x: float, y: float) -> float:
    """``x ** y`` by ``math.pow``; nan where it raises for a negative base, as C's pow gives."""
    try:
        return math.pow(x, y)
    except ValueError:
        return math.nan


class Plain:
    """A float with the methods and operators of ``Value``, and no graph: only the value."""

    __slots__ = ("x",)

    def __init__(self, x: float) -> None:
        self.x = x

    def __repr__(self) -> str:
        return f"Plain({self.x!r})"

    def __add__(self, other: Plain | float) -> Plain:
        return Plain(self.x + _float(other))

    def __radd__(self, other: float) -> Plain:  # other + self
        return Plain(_float(other) + self.x)

    def __sub__(self, other: Plain | float) -> Plain:
        return Plain(self.x - _float(other))

    def __rsub__(self, other: float) -> Plain:  # other - self
        return Plain(_float(other) - self.x)

    def __mul__(self, other: Plain | float) -> Plain:
        return Plain(self.x * _float(other))

    def __rmul__(self, other: float) -> Plain:  # other * self
        return Plain(_float(other) * self.x)

    def __truediv__(self, other: Plain | float) -> Plain:
        return Plain(self.x / _float(other))

    def __rtruediv__(self, other: float) -> Plain:  # other / self
        return Plain(_float(other) / self.x)

    def __pow__(self, other: Plain | float) -> Plain:
        return Plain(_pow(self.x, _float(other)))

    def __rpow__(self, other: float) -> Plain:  # other ** self
        return Plain(_pow(_float(other), self.x))

    def __neg__(self) -> Plain:
        return Plain(-self.x)

    def exp(self) -> Plain:
        """``math.exp``."""
        return Plain(math.exp(self.x))

    def log(self) -> Plain:
        """``math.log``."""
        return Plain(math.log(self.x))

    def tanh(self) -> Plain:
        """``math.tanh``."""
        return Plain(math.tanh(self.x))

    def relu(self) -> Plain:
        """``x`` where it is positive, else 0."""
        return Plain(self.x if self.x > 0.0 else 0.0)

    def sigmoid(self) -> Plain:
        """The logistic function in the form that never overflows (not the engine's form)."""
        if self.x >= 0.0:
            return Plain(1.0 / (1.0 + math.exp(-self.x)))
        e = math.exp(self.x)
        return Plain(e / (1.0 + e))


def plain_value(fn: Callable[..., Any], inputs: Sequence[float]) -> float:
    """``fn`` evaluated on ``Plain`` numbers."""
    out = fn(*(Plain(x) for x in inputs))
    return _float(out)


def central_differences(
    fn: Callable[..., Any], inputs: Sequence[float], eps: float = 1e-6
) -> list[float]:
    """``(f(x + eps·eᵢ) - f(x - eps·eᵢ)) / 2eps`` for each input, ``f`` evaluated on ``Plain``."""
    estimates = []
    for i, x in enumerate(inputs):
        up, down = list(inputs), list(inputs)
        up[i], down[i] = x + eps, x - eps
        estimates.append((plain_value(fn, up) - plain_value(fn, down)) / (2.0 * eps))
    return estimates
