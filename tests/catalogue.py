"""The ops under test: every form of every rule, each with the inputs on which it is smooth.

Each case's ``fn`` is written once and applied to micrograd Values and to
torch tensors alike, so the two sides of every comparison run the same
expression. ``tests/test_catalogue.py`` checks that every rule in
``micrograd.rules.RULES`` has a case here.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from micrograd import Value
from tests.strategies import away_from_zero, reals


def fused_sum(terms: Sequence[Any]) -> Any:
    """``Value.sum`` for Values; for tensors the chained sum it promises to equal."""
    if isinstance(terms[0], Value):
        return Value.sum(terms)
    return functools.reduce(operator.add, terms)


def fused_dot(ws: Sequence[Any], xs: Sequence[Any], start: Any) -> Any:
    """``Value.dot`` for Values; for tensors the chained expression it promises to equal."""
    if isinstance(start, Value):
        return Value.dot(ws, xs, start)
    total = start
    for w, x in zip(ws, xs, strict=True):
        total = total + w * x
    return total


@dataclass(frozen=True)
class OpCase:
    """One form of one op: ``fn`` of len(``domains``) inputs, smooth on those domains."""

    name: str
    rule: str
    fn: Callable[..., Any]
    domains: tuple[st.SearchStrategy[float], ...]

    def __str__(self) -> str:
        return self.name


ANY = reals(-100.0, 100.0, awkward=(0.0, -0.0, 1.0, -1.0, 0.5))
POSITIVE = reals(0.05, 20.0, awkward=(1.0, 0.5, 2.0))
DIVISOR = away_from_zero(0.05, 100.0)
KINKLESS = away_from_zero(1e-3, 100.0)  # relu away from 0, where it is not differentiable
NEGATIVE = reals(-5.0, -0.05, awkward=(-1.0, -2.0, -0.5))
INTEGRAL = st.sampled_from((-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0))
"""Exponents for which a negative base has a power (its derivative in the exponent is nan)."""

CASES: tuple[OpCase, ...] = (
    OpCase("Value + Value", "add", lambda x, y: x + y, (ANY, ANY)),
    OpCase("Value + number", "add", lambda x: x + 2.5, (ANY,)),
    OpCase("number + Value", "add", lambda x: 2.5 + x, (ANY,)),
    OpCase("Value + same Value", "add", lambda x: x + x, (ANY,)),
    OpCase("Value - Value", "sub", lambda x, y: x - y, (ANY, ANY)),
    OpCase("Value - number", "sub", lambda x: x - 2.5, (ANY,)),
    OpCase("number - Value", "sub", lambda x: 2.5 - x, (ANY,)),
    OpCase("Value - same Value", "sub", lambda x: x - x, (ANY,)),
    OpCase("Value * Value", "mul", lambda x, y: x * y, (ANY, ANY)),
    OpCase("Value * number", "mul", lambda x: x * -1.5, (ANY,)),
    OpCase("number * Value", "mul", lambda x: -1.5 * x, (ANY,)),
    OpCase("Value * same Value", "mul", lambda x: x * x, (ANY,)),
    OpCase("Value / Value", "div", lambda x, y: x / y, (ANY, DIVISOR)),
    OpCase("Value / number", "div", lambda x: x / 3.0, (ANY,)),
    OpCase("number / Value", "div", lambda y: 3.0 / y, (DIVISOR,)),
    OpCase("Value / same Value", "div", lambda y: y / y, (DIVISOR,)),
    OpCase("-Value", "neg", lambda x: -x, (ANY,)),
    OpCase("Value ** 2", "pow_const", lambda x: x**2, (ANY,)),
    OpCase("Value ** 3", "pow_const", lambda x: x**3, (ANY,)),
    OpCase("Value ** 0", "pow_const", lambda x: x**0, (ANY,)),
    OpCase("Value ** 1", "pow_const", lambda x: x**1, (ANY,)),
    OpCase("Value ** 4", "pow_const", lambda x: x**4, (reals(-10.0, 10.0),)),
    OpCase("Value ** -1", "pow_const", lambda x: x**-1, (DIVISOR,)),
    OpCase("Value ** -2", "pow_const", lambda x: x**-2, (DIVISOR,)),
    OpCase("Value ** 0.5", "pow_const", lambda x: x**0.5, (POSITIVE,)),
    OpCase("Value ** -0.5", "pow_const", lambda x: x**-0.5, (POSITIVE,)),
    OpCase("Value ** 1.7", "pow_const", lambda x: x**1.7, (POSITIVE,)),
    OpCase("Value ** -2.3", "pow_const", lambda x: x**-2.3, (POSITIVE,)),
    OpCase("Value ** Value", "pow", lambda x, y: x**y, (POSITIVE, reals(-3.0, 3.0))),
    OpCase("Value ** Value, negative base", "pow", lambda x, y: x**y, (NEGATIVE, INTEGRAL)),
    OpCase("number ** Value", "pow", lambda y: 2.0**y, (reals(-20.0, 20.0),)),
    OpCase("number ** Value, base 0.5", "pow", lambda y: 0.5**y, (reals(-20.0, 20.0),)),
    OpCase("number ** Value, base 10", "pow", lambda y: 10.0**y, (reals(-5.0, 5.0),)),
    OpCase("number ** Value, base -2", "pow", lambda y: (-2.0) ** y, (INTEGRAL,)),
    OpCase("Value ** same Value", "pow", lambda x: x**x, (POSITIVE,)),
    OpCase("exp", "exp", lambda x: x.exp(), (reals(-50.0, 50.0, awkward=(0.0,)),)),
    OpCase("log", "log", lambda x: x.log(), (reals(0.01, 1e3, awkward=(1.0,)),)),
    OpCase("tanh", "tanh", lambda x: x.tanh(), (reals(-20.0, 20.0, awkward=(0.0,)),)),
    OpCase("relu", "relu", lambda x: x.relu(), (KINKLESS,)),
    OpCase("sigmoid", "sigmoid", lambda x: x.sigmoid(), (reals(-30.0, 30.0, awkward=(0.0,)),)),
    OpCase("Value.sum", "sum", lambda *xs: fused_sum(xs), (ANY,) * 4),
    OpCase("Value.sum, one term", "sum", lambda x: fused_sum([x]), (ANY,)),
    OpCase(
        "Value.dot",
        "dot",
        lambda w0, w1, w2, x0, x1, x2, b: fused_dot([w0, w1, w2], [x0, x1, x2], b),
        (ANY,) * 7,
    ),
    OpCase("Value.dot, shared input", "dot", lambda w, x: fused_dot([w, x], [x, x], w), (ANY,) * 2),
)
"""Every op, in every form a student would write it."""


POWER_WITNESSES: tuple[tuple[float, float, float], ...] = (
    (2.0, -29.243195209348215, 855.1644660520465),
    (3.0, 52.045142527044874, 140974.51417563032),
    (0.5, 70.0769565213535, 8.371198033815322),
    (0.5, -0.0, -0.0),  # sqrt(-0.0) is -0.0; pow(-0.0, 0.5) is 0.0
    (0.5, -math.inf, math.nan),  # pow(-inf, 0.5) is inf
    (-0.5, 20.256393393011297, 0.22218715018105326),
    (-0.5, -0.0, -math.inf),  # pow(-0.0, -0.5) is inf
    (-0.5, -math.inf, math.nan),  # pow(-inf, -0.5) is 0.0
    (-1.0, -79.23681324793061, -0.012620396492612814),
    (-2.0, -30.929726436001957, 0.001045316588356395),
)
"""``(k, x, x ** k)``: PyTorch's ``x ** k``, by arithmetic or sqrt, where C's pow differs."""
