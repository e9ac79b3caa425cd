"""Hypothesis strategies shared by the tests: awkward floats, op inputs, random expression DAGs."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from micrograd import Value

SPECIAL_FLOATS: tuple[float, ...] = (
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -2.0,
    3.0,
    math.inf,
    -math.inf,
    math.nan,
    5e-324,  # the smallest subnormal
    -1e-300,
    1e300,
    -1e300,
    800.0,  # exp overflows
    -800.0,  # exp underflows to 0
    1e-8,
)
"""The points where engines go wrong: signed zeros, ±1, infinities, nan, subnormals, overflow."""


def reals(low: float, high: float, *, awkward: tuple[float, ...] = ()) -> st.SearchStrategy[float]:
    """Finite floats in ``[low, high]``, with the in-range ``awkward`` points drawn on purpose."""
    inside = [x for x in (*awkward, low, high) if low <= x <= high]
    plain = st.floats(low, high, allow_nan=False, allow_infinity=False)
    return st.one_of(st.sampled_from(inside), plain) if inside else plain


def away_from_zero(low: float, high: float) -> st.SearchStrategy[float]:
    """Floats with ``low <= |x| <= high``, of either sign: divisors, relu away from its kink."""
    return st.builds(
        math.copysign, reals(low, high, awkward=(1.0, 2.0)), st.sampled_from((1.0, -1.0))
    )


# Random expression DAGs. A program is a list of steps; step i computes node
# n_leaves + i from earlier nodes, chosen freely, so intermediate nodes and
# leaves are reused (the bug behind `=` instead of `+=`, or a topological
# sort that visits a node twice). Every step keeps values bounded so that the
# comparison is about gradients, not overflow, while still dividing by numbers
# from 0.1 up and taking logs of numbers from 0.1 up (below 1, where log is negative
# and steep).


@dataclass(frozen=True)
class Step:
    """One node of a random DAG: ``op`` applied to earlier nodes ``args`` (and ``const``)."""

    op: str
    args: tuple[int, ...]
    const: float


@dataclass(frozen=True)
class Program:
    """A random expression DAG: leaf values, then steps; the last node is the root."""

    leaves: tuple[float, ...]
    steps: tuple[Step, ...]

    def __call__(self, *leaves: Any) -> Any:
        """Evaluate on Values or on torch tensors; the root sums every node no step consumed."""
        nodes = list(leaves)
        for step in self.steps:
            nodes.append(_STEPS[step.op]([nodes[i] for i in step.args], step.const))
        consumed = {i for step in self.steps for i in step.args}
        unused = [n for i, n in enumerate(nodes) if i >= len(leaves) and i not in consumed]
        total = unused[0]
        for n in unused[1:]:
            total = total + n
        return total

    def __str__(self) -> str:
        lines = [f"n{i} = {x!r}" for i, x in enumerate(self.leaves)]
        first = len(self.leaves)
        lines += [
            f"n{first + i} = {s.op}({', '.join(f'n{a}' for a in s.args)}; const={s.const!r})"
            for i, s in enumerate(self.steps)
        ]
        return "\n".join(lines)


def _fused_sum(args: list[Any]) -> Any:
    return Value.sum(args) if isinstance(args[0], Value) else args[0] + args[1] + args[2]


def _fused_dot(args: list[Any]) -> Any:
    if isinstance(args[0], Value):
        return Value.dot(args[:2], args[2:4], args[4])
    return args[4] + args[0] * args[2] + args[1] * args[3]


# Each step is written so that bounded inputs give bounded outputs, mostly.
_STEPS: dict[str, Callable[[list[Any], float], Any]] = {
    "add": lambda n, c: n[0] + n[1],
    "sub": lambda n, c: n[0] - n[1],
    "mul": lambda n, c: n[0] * n[1],
    "div": lambda n, c: n[0] / (0.1 + n[1] * n[1]),
    "neg": lambda n, c: -n[0],
    "tanh": lambda n, c: n[0].tanh(),
    "sigmoid": lambda n, c: n[0].sigmoid(),
    "relu": lambda n, c: n[0].relu(),
    "exp": lambda n, c: n[0].tanh().exp(),
    "log": lambda n, c: (0.1 + n[0] * n[0]).log(),
    "square": lambda n, c: n[0] ** 2,
    "cube": lambda n, c: n[0].tanh() ** 3,
    "sqrt": lambda n, c: (1.0 + n[0] * n[0]) ** 0.5,
    "pow": lambda n, c: (1.0 + n[0] * n[0]) ** n[1].tanh(),
    "const": lambda n, c: c - n[0] * c,
    "sum": lambda n, c: _fused_sum(n),
    "dot": lambda n, c: _fused_dot(n),
}
ARITY = {"add": 2, "sub": 2, "mul": 2, "div": 2, "pow": 2, "sum": 3, "dot": 5}
"""Inputs per DAG op; 1 where not listed."""
DAG_OPS: tuple[str, ...] = tuple(_STEPS)


@st.composite
def programs(
    draw: st.DrawFn,
    *,
    max_leaves: int = 4,
    max_steps: int = 12,
    ops: tuple[str, ...] = DAG_OPS,
    leaf_inputs_only: bool = False,
) -> Program:
    """A random DAG over 1..max_leaves leaves and 1..max_steps steps, reusing nodes freely.

    With ``leaf_inputs_only``, every step reads leaves only, so leaves are the
    only nodes used more than once (the root's sum aside).
    """
    leaves = tuple(
        draw(st.lists(reals(-2.0, 2.0, awkward=(0.0, 1.0, -1.0)), min_size=1, max_size=max_leaves))
    )
    n_steps = draw(st.integers(1, max_steps))
    steps = []
    for i in range(n_steps):
        available = len(leaves) if leaf_inputs_only else len(leaves) + i
        op = draw(st.sampled_from(ops))
        arity = ARITY.get(op, 1)
        # Lean towards the newest node so that chains get deep, but allow any.
        args = tuple(
            draw(st.one_of(st.just(available - 1), st.integers(0, available - 1)))
            for _ in range(arity)
        )
        const = draw(reals(-2.0, 2.0, awkward=(0.0, 1.0, -1.0, 0.5)))
        steps.append(Step(op, args, const))
    return Program(leaves, tuple(steps))
