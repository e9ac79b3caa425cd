"""Naming the misconception behind a wrong gradient, from the numbers a failing case gave.

Each diagnosis compares the student's numbers with what a known mistake
would give on the same graph, computed from the reference engine's own
gradients: the contribution of every edge into a leaf. It names the mistake
only when the student's numbers are exactly what that mistake gives. Where
another fault can give the same numbers (a node missing from the graph drops a
use's share as a replaced gradient does), the finding carries a follow-up
:class:`Probe` that the student's engine must fail as the mistake predicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any, Final

from micrograd.engine import Value
from micrograd.oracle.compare import Tolerance, expected, register_name
from micrograd.oracle.worker import build, method_for, operands

__all__ = ["Finding", "Probe", "diagnose", "edge_contributions", "walk"]

Program = dict[str, Any]
Result = dict[str, Any]


@dataclass(frozen=True)
class Probe:
    """A follow-up program on which the mistake gives one gradient and a correct engine another."""

    program: Program
    """What to run on the student's engine."""
    leaf: int
    """The leaf whose gradient tells."""
    mistaken: float
    """Its gradient under the mistake."""
    correct: float
    """Its gradient in a correct engine."""


@dataclass(frozen=True)
class Finding:
    """A misconception whose numbers are exactly the student's."""

    kind: str
    """``"swapped"``, ``"walk"``, ``"kept_interior"`` or ``"replaced"``."""
    message: str
    """What it is, in a student's words."""
    probe: Probe | None = None
    """When set, the finding stands only if the student's engine gives ``probe.mistaken``."""


_MAX_EDGES: Final = 10  # subsets of at most this many edges into one leaf are tried
_COMPOSITE: Final = frozenset(
    {"__sub__", "__rsub__", "__neg__", "__truediv__", "__rtruediv__", "__rpow__"}
)  # ops the lecture builds from others (a - b is a + (-b), a / b is a * b**-1)


def edge_contributions(program: Program) -> list[list[tuple[int, float]]]:
    """For each leaf, ``(register of the node using it, that edge's share of its gradient)``.

    A leaf's gradient is the sum of its edges' shares: the gradient of the
    node using it times the local derivative (``a * a`` has two edges into ``a``).
    """
    registers, _ = build({**program, "root_grad": False}, Value)
    registers[-1].backward()
    n = len(program["leaves"])
    shares: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for index, node in enumerate(registers[n:], start=n):
        for child, local in zip(node.children, node.local_grads, strict=True):
            for leaf in range(n):
                if child is registers[leaf]:
                    shares[leaf].append((index, node.grad * local))
    return shares


def _op_name(program: Program, register: int) -> str:
    """How the student calls the op that built ``register``: ``exp()``, ``__mul__`` …."""
    name = method_for(program["ops"][register - len(program["leaves"])])
    return name if name.startswith("__") else f"{name}()"


def diagnose(program: Program, want: Result, got: Result, tol: Tolerance) -> Finding | None:
    """The misconception that gives exactly ``got`` on ``program``, or None.

    In turn: a reflected operator with its operands swapped (a wrong value);
    a walk of the graph that visits a node twice or runs the nodes' backward
    in the wrong order (every leaf's gradient exactly as that walk gives);
    a gradient replaced instead of accumulated (a leaf's gradient the sum of
    only some of its uses' shares). When two readings fit, neither is given.
    """
    if "error" in got or "error" in want:
        return None
    if not all(tol.close(g, w) for g, w in zip(got["data"], want["data"], strict=True)):
        swapped = _swapped_operands(program, got, tol)  # a wrong value: the forward pass
        return None if swapped is None else Finding("swapped", swapped)
    n = len(program["leaves"])
    wrong = [i for i in range(n) if not tol.close(got["grads"][i], want["grads"][i])]
    if not wrong or not program["ops"]:
        return None
    if program.get("backward_calls", 1) > 1:
        kept = _kept_interior(program, got, tol)
        return None if kept is None else Finding("kept_interior", kept)
    walked = _faulty_walk(program, got, tol)
    shares = edge_contributions(program)
    if walked is not None:  # unless a replaced gradient also fits: then say neither
        plausible = any(_matches(shares[i], got["grads"][i], tol) for i in wrong)
        return None if plausible else Finding("walk", walked)
    return _replaced(program, shares, got, tol, wrong)


def _kept_interior(program: Program, got: Result, tol: Tolerance) -> str | None:
    """Gradients of repeated backward() calls whose interior nodes kept the earlier calls'."""
    calls = program["backward_calls"]
    grads = walk(program, calls=calls)
    if grads is None or not all(tol.close(g, w) for g, w in zip(got["grads"], grads, strict=True)):
        return None
    return (
        f"after {calls} calls of backward() your leaves hold what interior nodes that keep "
        "their grad from the earlier calls give: each call should add one gradient to the "
        "leaves, as in PyTorch. Reset every interior node's grad to 0 at the start of "
        "backward() (or call it once per graph, as training loops do)"
    )


_WALKS: Final = {
    (False, True): (
        "your gradients are exactly what a walk without a `visited` set gives: a node reached "
        "by two paths has its backward run twice. Build the topological order once, "
        "remembering the nodes already added"
    ),
    (True, False): (
        "your gradients are exactly what running the nodes' backward from the leaves toward "
        "the root gives: either the loop runs the topological order forwards (loop over "
        "reversed(topo)), or the order lists a node before its inputs (append a node after "
        "its children)"
    ),
}


def _faulty_walk(program: Program, got: Result, tol: Tolerance) -> str | None:
    """The fault of the walk in backward() that gives exactly ``got``, or None."""
    for (visited, reverse), message in _WALKS.items():
        for flip in (False, True):  # a set of children may iterate in either order
            grads = walk(program, visited=visited, reverse=reverse, flip=flip)
            if grads is not None and all(
                tol.close(g, w) for g, w in zip(got["grads"], grads, strict=True)
            ):
                return message
    return None


_MAX_ORDER: Final = 100_000  # a walk without a visited set is exponential: give up past this


def walk(
    program: Program,
    *,
    visited: bool = True,
    reverse: bool = True,
    flip: bool = False,
    calls: int = 1,
) -> list[float] | None:
    """The leaves' gradients a lecture-style backward() gives on ``program``'s graph.

    It orders the nodes depth first, children before parents (each node's
    distinct children in order, or reversed if ``flip``), remembering visited
    nodes only if ``visited``, then applies each node's chain rule in reverse
    order (or forwards, if not ``reverse``), every gradient accumulating; the
    root's grad is set to 1 at each of ``calls`` calls, and nothing else is
    reset between them. None when the order would exceed 100,000 nodes.
    """
    registers, _ = build({**program, "root_grad": False}, Value)
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(registers[-1], False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            if len(order) > _MAX_ORDER:
                return None
            continue
        if visited and id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        children = list(dict.fromkeys(node.children))  # a set of children: each once
        if not flip:
            children.reverse()  # the stack pops the first child first
        stack += [(child, False) for child in children]
    grads = {id(node): 0.0 for node in order}
    for _ in range(calls):
        grads[id(registers[-1])] = 1.0
        for node in reversed(order) if reverse else order:
            for child, local in zip(node.children, node.local_grads, strict=True):
                grads[id(child)] += grads[id(node)] * local
    return [grads.get(id(leaf), 0.0) for leaf in registers[: len(program["leaves"])]]


def _replaced(
    program: Program,
    shares: list[list[tuple[int, float]]],
    got: Result,
    tol: Tolerance,
    wrong: list[int],
) -> Finding | None:
    """A gradient that is the sum of only some of its edges' shares: ``=`` instead of ``+=``.

    A node left out of the graph (an op that does not record one of its
    inputs) drops its share too, so the finding carries a probe: the op named,
    on leaves only, plus the leaf itself. With ``=`` in that op's backward the
    op's share replaces the ``+``'s; a missing node does not touch it.
    """
    for i in wrong:
        kept = _kept_edges(shares[i], got["grads"][i], tol, program)
        if kept is None:
            continue
        ops = sorted({_op_name(program, register) for register, _ in kept})
        built = " (or of an op it is built from)" if set(ops) & _COMPOSITE else ""
        probe = _replaced_probe(program, [register for register, _ in kept], i, tol)
        if probe is None:
            continue
        message = (
            f"{register_name(i)}.grad is what {len(kept)} of its {len(shares[i])} uses give "
            f"alone: a gradient was replaced (=) instead of accumulated (+=), in the backward "
            f"of {', '.join(ops)}{built}"
        )
        return Finding("replaced", message, probe)
    return None


def _replaced_probe(program: Program, kept: list[int], leaf: int, tol: Tolerance) -> Probe | None:
    """``f(a, …) + a`` for an op ``f`` among the ``kept`` registers that reads only leaves."""
    n = len(program["leaves"])
    for register in kept:
        instruction = program["ops"][register - n]
        if not all(operand < n for operand in operands(instruction)):
            continue
        probe = {"leaves": program["leaves"], "ops": [instruction, ["bin", "+", n, leaf]]}
        # The op already ran on these leaves in ``program``: the reference runs the probe too,
        # and the op's node has an edge into ``leaf``, as it had there.
        own = [share for node, share in edge_contributions(probe)[leaf] if node == n]
        mistaken, right = own[-1], expected(probe)["grads"][leaf]
        if not tol.close(mistaken, right):
            return Probe(probe, leaf, mistaken, right)
    return None


def _kept_edges(
    shares: list[tuple[int, float]], got: float, tol: Tolerance, program: Program
) -> list[tuple[int, float]] | None:
    """The proper, non-empty subset of ``shares`` that sums to ``got``, if one does."""
    matches = _matches(shares, got, tol)
    ops = {tuple(sorted({_op_name(program, r) for r, _ in subset})) for subset in matches}
    return matches[0] if len(ops) == 1 else None  # two readings: say nothing


def _matches(
    shares: list[tuple[int, float]], got: float, tol: Tolerance
) -> list[list[tuple[int, float]]]:
    """The proper, non-empty subsets of ``shares`` that sum to ``got`` (none past 10 edges)."""
    if not 2 <= len(shares) <= _MAX_EDGES:
        return []
    return [
        list(subset)
        for size in range(1, len(shares))
        for subset in combinations(shares, size)
        if tol.close(got, sum(share for _, share in subset))
    ]


def _swapped_operands(program: Program, got: Result, tol: Tolerance) -> str | None:
    """A reflected operator that computes ``a ∘ 2`` where ``2 ∘ a`` was asked."""
    ops = program["ops"]
    if len(ops) != 1 or ops[0][0] != "rnum" or ops[0][1] in ("+", "*"):
        return None
    _, symbol, number, operand = ops[0]
    swapped = expected({**program, "ops": [["lnum", symbol, operand, number]]})
    if "error" in swapped or not tol.close(got["data"][-1], swapped["data"][-1]):
        return None
    dunder = method_for(ops[0])
    return (
        f"{number!r} {symbol} a gives a {symbol} {number!r}: {dunder}(self, other) is called "
        f"for `{number!r} {symbol} a` with other = {number!r}, so it must compute "
        f"other {symbol} self"
    )
