"""The derivative rules: one function per op, returning its value and its local derivatives.

Every rule takes plain floats and returns ``(value, local_grads)``, where
``local_grads[i]`` is the partial derivative of the value with respect to the
i-th input, evaluated at the inputs. The engine stores ``local_grads`` on the
node it builds and applies the chain rule once, in ``Value.backward``.

The numbers follow PyTorch float64 on the CPU, including at special points:
where Python's ``math`` module would raise (``log(0)``, ``exp(1000)``,
``0 ** -1``, ``(-8) ** (1/3)``, division by zero) a rule returns the IEEE 754
result instead, ``inf`` or ``nan``, exactly as PyTorch does. ``RULES`` lists
every rule so that tests, documentation and the grading oracle can loop over
them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Final, NamedTuple

__all__ = [
    "RULES",
    "Rule",
    "add",
    "div",
    "dot",
    "exp",
    "ieee_div",
    "ieee_exp",
    "ieee_log",
    "ieee_pow",
    "ieee_sqrt",
    "log",
    "mul",
    "neg",
    "pow",
    "pow_const",
    "power",
    "relu",
    "sigmoid",
    "sub",
    "sum",
    "tanh",
]

_INF: Final = math.inf
_NAN: Final = math.nan

# Local derivatives that do not depend on the inputs are shared, not rebuilt per node.
_ONE_ONE: Final = (1.0, 1.0)
_ONE_MINUS_ONE: Final = (1.0, -1.0)
_MINUS_ONE: Final = (-1.0,)
_ONE: Final = (1.0,)
_ZERO: Final = (0.0,)


# IEEE 754 arithmetic where Python's float operations raise instead.


def ieee_div(x: float, y: float) -> float:
    """``x / y``, giving ``±inf`` for a nonzero ``x`` over zero and ``nan`` for ``0/0``."""
    try:
        return x / y
    except ZeroDivisionError:
        if x == 0.0 or math.isnan(x):
            return _NAN
        return math.copysign(_INF, x) * math.copysign(1.0, y)


def ieee_exp(x: float) -> float:
    """``e ** x``, giving ``inf`` on overflow."""
    try:
        return math.exp(x)
    except OverflowError:
        return _INF


def ieee_log(x: float) -> float:
    """Natural logarithm: ``-inf`` at ``±0``, ``nan`` below zero."""
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -_INF
    return _NAN


def ieee_sqrt(x: float) -> float:
    """Square root: ``nan`` below zero, and ``sqrt(-0.0) == -0.0``."""
    return math.sqrt(x) if x >= 0.0 else _NAN


def _is_odd_integer(y: float) -> bool:
    return y.is_integer() and y % 2.0 == 1.0


def ieee_pow(x: float, y: float) -> float:
    """``x ** y`` with C99 ``pow`` semantics, the function PyTorch calls.

    ``0 ** -1`` is ``inf``, a negative base with a non-integer exponent is
    ``nan``, and overflow is ``±inf``, where Python raises or returns a complex.
    """
    try:
        return math.pow(x, y)
    except ValueError:
        if x == 0.0:  # zero to a negative power
            return math.copysign(_INF, x) if _is_odd_integer(y) else _INF
        return _NAN  # negative base, non-integer exponent
    except OverflowError:
        return -_INF if x < 0.0 and _is_odd_integer(y) else _INF


def power(x: float, k: float) -> float:  # noqa: PLR0911 - one return per special case
    """``x ** k`` for a number exponent, evaluated the way PyTorch evaluates it.

    PyTorch computes ``x ** 2`` as ``x * x``, ``x ** 3`` as ``x * x * x``,
    ``x ** 0.5`` as ``sqrt(x)``, ``x ** -0.5`` as ``1 / sqrt(x)``, ``x ** -1``
    as ``1 / x`` and ``x ** -2`` as ``1 / (x * x)``; ``x ** 0`` is 1 and
    ``x ** 1`` is ``x`` for every ``x``, nan included. Other exponents use
    :func:`ieee_pow`. Following it keeps results equal to PyTorch's to the bit.
    """
    if k == 0.0:
        return 1.0
    if k == 1.0:
        return x
    if k == 2.0:
        return x * x
    if k == 3.0:
        return x * x * x
    if k == 0.5:
        return ieee_sqrt(x)
    if k == -0.5:
        return ieee_div(1.0, ieee_sqrt(x))
    if k == -1.0:
        return ieee_div(1.0, x)
    if k == -2.0:
        return ieee_div(1.0, x * x)
    return ieee_pow(x, k)


# The rules. Each docstring gives the value and the local derivatives.


def add(x: float, y: float) -> tuple[float, tuple[float, ...]]:
    """``x + y``; d/dx = 1, d/dy = 1."""
    return x + y, _ONE_ONE


def sub(x: float, y: float) -> tuple[float, tuple[float, ...]]:
    """``x - y``; d/dx = 1, d/dy = -1."""
    return x - y, _ONE_MINUS_ONE


def mul(x: float, y: float) -> tuple[float, tuple[float, ...]]:
    """``x * y``; d/dx = y, d/dy = x."""
    return x * y, (y, x)


def div(x: float, y: float) -> tuple[float, tuple[float, ...]]:
    """``x / y``; d/dx = 1/y, d/dy = -(x/y)/y."""
    out = ieee_div(x, y)
    return out, (ieee_div(1.0, y), -ieee_div(out, y))


def pow(x: float, y: float) -> tuple[float, tuple[float, ...]]:
    """``x ** y`` for a Value exponent; d/dx = y·x^(y-1), d/dy = x^y·ln x.

    As in PyTorch, d/dx is 0 where y = 0, and d/dy is 0 where x = 0 and
    y >= 0 (the limit, where ``0 * ln 0`` would be nan).
    """
    out = ieee_pow(x, y)
    d_base = 0.0 if y == 0.0 else y * ieee_pow(x, y - 1.0)
    d_exponent = 0.0 if x == 0.0 and y >= 0.0 else out * ieee_log(x)
    return out, (d_base, d_exponent)


def pow_const(x: float, k: float) -> tuple[float, tuple[float, ...]]:
    """``x ** k`` for a number exponent k; d/dx = k·x^(k-1), and 0 where k = 0.

    Both powers are evaluated by :func:`power`, as PyTorch does.
    """
    return power(x, k), (0.0 if k == 0.0 else k * power(x, k - 1.0),)


def neg(x: float) -> tuple[float, tuple[float, ...]]:
    """``-x``; d/dx = -1."""
    return -x, _MINUS_ONE


def exp(x: float) -> tuple[float, tuple[float, ...]]:
    """``e^x``; d/dx = e^x."""
    out = ieee_exp(x)
    return out, (out,)


def log(x: float) -> tuple[float, tuple[float, ...]]:
    """``ln x``; d/dx = 1/x. ``ln 0 = -inf`` and ``ln`` of a negative number is nan."""
    return ieee_log(x), (ieee_div(1.0, x),)


def tanh(x: float) -> tuple[float, tuple[float, ...]]:
    """``tanh x``; d/dx = 1 - tanh²x."""
    out = math.tanh(x)
    return out, (1.0 - out * out,)


def relu(x: float) -> tuple[float, tuple[float, ...]]:
    """``max(0, x)``; d/dx = 1 where x > 0, else 0 (so relu'(0) = 0, as in PyTorch).

    As in PyTorch, ``relu(-0.0)`` is ``-0.0``, and nan passes through with
    derivative 1.
    """
    if x < 0.0:
        return 0.0, _ZERO
    return x, (_ZERO if x == 0.0 else _ONE)


def sigmoid(x: float) -> tuple[float, tuple[float, ...]]:
    """``σ(x) = 1 / (1 + e^-x)``; d/dx = (1 - σ(x))·σ(x)."""
    out = 1.0 / (1.0 + ieee_exp(-x))
    return out, ((1.0 - out) * out,)


def sum(xs: Sequence[float]) -> tuple[float, tuple[float, ...]]:
    """``x₀ + x₁ + … + xₙ₋₁`` added left to right; d/dxᵢ = 1.

    The value is bit-for-bit the chained ``((x₀ + x₁) + x₂) + …``.
    """
    total = xs[0]
    for x in xs[1:]:
        total += x
    return total, _ONE * len(xs)


def dot(ws: Sequence[float], xs: Sequence[float], start: float) -> tuple[float, tuple[float, ...]]:
    """``start + w₀x₀ + w₁x₁ + …`` added left to right; d/dwᵢ = xᵢ, d/dxᵢ = wᵢ, d/dstart = 1.

    The value is bit-for-bit the chained ``((start + w₀·x₀) + w₁·x₁) + …``.
    The local derivatives are ordered like the inputs: all ``w``, all ``x``,
    then ``start``.
    """
    total = start
    for w, x in zip(ws, xs, strict=True):
        total += w * x
    return total, (*xs, *ws, 1.0)


class Rule(NamedTuple):
    """One op of the engine, as listed in :data:`RULES`."""

    name: str
    """The op's name, as the ``Value`` method or operator is known."""
    symbol: str
    """How ``Value.op`` shows a node made by this rule."""
    arity: int
    """The number of float inputs, or -1 for the n-ary ``sum`` and ``dot``."""
    apply: Callable[..., tuple[float, tuple[float, ...]]]
    """The rule itself: floats in, ``(value, local_grads)`` out."""


RULES: Final[dict[str, Rule]] = {
    rule.name: rule
    for rule in (
        Rule("add", "+", 2, add),
        Rule("sub", "-", 2, sub),
        Rule("mul", "*", 2, mul),
        Rule("div", "/", 2, div),
        Rule("pow", "**", 2, pow),
        Rule("pow_const", "**k", 2, pow_const),
        Rule("neg", "neg", 1, neg),
        Rule("exp", "exp", 1, exp),
        Rule("log", "log", 1, log),
        Rule("tanh", "tanh", 1, tanh),
        Rule("relu", "relu", 1, relu),
        Rule("sigmoid", "sigmoid", 1, sigmoid),
        Rule("sum", "sum", -1, sum),
        Rule("dot", "dot", -1, dot),
    )
}
"""Every rule of the engine, by name."""
