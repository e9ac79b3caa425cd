"""Hypothesis strategies shared by the tests: awkward floats, op inputs, and random expression DAGs."""

from __future__ import annotations

import math
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
# comparison is about gradients, not overflow.

DAG_OPS: tuple[str, ...] = (
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "tanh",
    "sigmoid",
    "relu",
    "exp",
    "log",
    "square",
    "cube",
    "sqrt",
    "pow",
    "const",
    "sum",
    "dot",
)


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
            nodes.append(_apply(step, [nodes[i] for i in step.args]))
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


def _apply(step: Step, args: list[Any]) -> Any:
    """One step, written so that bounded inputs give bounded outputs (mostly)."""
    a, c = args[0], step.const
    match step.op:
        case "add":
            return a + args[1]
        case "sub":
            return a - args[1]
        case "mul":
            return a * args[1]
        case "div":
            return a / (1.0 + args[1] * args[1])
        case "neg":
            return -a
        case "tanh":
            return a.tanh()
        case "sigmoid":
            return a.sigmoid()
        case "relu":
            return a.relu()
        case "exp":
            return a.tanh().exp()
        case "log":
            return (1.0 + a * a).log()
        case "square":
            return a**2
        case "cube":
            return a.tanh() ** 3
        case "sqrt":
            return (1.0 + a * a) ** 0.5
        case "pow":
            return (1.0 + a * a) ** args[1].tanh()
        case "const":
            return c - a * c
        case "sum":
            return Value.sum(args) if isinstance(a, Value) else args[0] + args[1] + args[2]
        case "dot":
            if isinstance(a, Value):
                return Value.dot(args[:2], args[2:4], args[4])
            return args[4] + args[0] * args[2] + args[1] * args[3]
    raise AssertionError(f"unknown DAG op {step.op!r}")


@st.composite
def programs(
    draw: st.DrawFn, *, max_leaves: int = 4, max_steps: int = 12, ops: tuple[str, ...] = DAG_OPS
) -> Program:
    """A random DAG over 1..max_leaves leaves and 1..max_steps steps, reusing nodes freely."""
    leaves = tuple(
        draw(st.lists(reals(-2.0, 2.0, awkward=(0.0, 1.0, -1.0)), min_size=1, max_size=max_leaves))
    )
    n_steps = draw(st.integers(1, max_steps))
    steps = []
    for i in range(n_steps):
        available = len(leaves) + i
        op = draw(st.sampled_from(ops))
        arity = {"sum": 3, "dot": 5}.get(op, 2 if op in {"add", "sub", "mul", "div", "pow"} else 1)
        # Lean towards the newest node so that chains get deep, but allow any.
        args = tuple(
            draw(st.one_of(st.just(available - 1), st.integers(0, available - 1)))
            for _ in range(arity)
        )
        const = draw(reals(-2.0, 2.0, awkward=(0.0, 1.0, -1.0, 0.5)))
        steps.append(Step(op, args, const))
    return Program(leaves, tuple(steps))
