"""Naming the misconception behind a wrong gradient, from the numbers a failing case gave.

Each diagnosis compares the student's numbers with what a known mistake
would give on the same graph, computed from the reference engine's own
gradients: the contribution of every edge into a leaf. It names the mistake
only when the student's numbers are exactly what that mistake gives.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any, Final

from micrograd.engine import Value
from micrograd.oracle.compare import Tolerance, expected, register_name
from micrograd.oracle.worker import build, method_for

__all__ = ["diagnose", "edge_contributions"]

Program = dict[str, Any]
Result = dict[str, Any]

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


def diagnose(
    program: Program, want: Result, got: Result, tol: Tolerance, *, graph: bool = False
) -> str | None:
    """The misconception that gives exactly ``got`` on ``program``, in a student's words, or None.

    ``graph`` says the program comes from a graph check, whose ops all passed
    on their own: only there, and only in a graph where a node is reached by
    two paths, is a gradient that is a whole multiple of the right one blamed
    on the walk rather than on one op's formula.
    """
    if "error" in got or "error" in want:
        return None
    return _swapped_operands(program, got, tol) or _from_gradients(
        program, want, got, tol, revisits=graph and _has_shared_node(program)
    )


def _has_shared_node(program: Program) -> bool:
    """Whether an interior node is an operand of two instructions (so two paths reach it)."""
    n = len(program["leaves"])
    readers: dict[int, int] = {}
    for op in program["ops"]:
        for register in {op[2], op[3]} if op[0] == "bin" else {op[3] if op[0] == "rnum" else op[2]}:
            readers[register] = readers.get(register, 0) + 1
    return any(count > 1 for register, count in readers.items() if register >= n)


def _from_gradients(
    program: Program, want: Result, got: Result, tol: Tolerance, *, revisits: bool
) -> str | None:
    n = len(program["leaves"])
    if not all(tol.close(g, w) for g, w in zip(got["data"], want["data"], strict=True)):
        return None  # a wrong value: the forward pass, not backward, is to blame
    wrong = [i for i in range(n) if not tol.close(got["grads"][i], want["grads"][i])]
    if not wrong or not program["ops"]:
        return None
    shares = edge_contributions(program)
    root = n + len(program["ops"]) - 1
    from_root = [sum(x for register, x in share if register == root) for share in shares]
    if (
        len(program["ops"]) > 1
        and all(tol.close(g, r) for g, r in zip(got["grads"], from_root, strict=True))
        and not any(
            _sums_to([s for s in shares[i] if s[0] != root], got["grads"][i], tol) for i in wrong
        )
    ):
        return (
            f"{register_name(wrong[0])}.grad holds only what the last node passed down "
            "directly: the nodes' backward functions ran from the leaves up. Run them in "
            "reverse topological order, the root first"
        )
    for i in wrong:
        name, g, w = register_name(i), got["grads"][i], want["grads"][i]
        multiple = round(g / w) if revisits and abs(w) > tol.abs_tol else 0
        if multiple >= 2 and tol.close(g, multiple * w):
            return (
                f"{name}.grad is exactly {multiple} times the right gradient: a node's backward "
                "ran more than once. Does your topological sort add a node twice (no "
                "`visited` set)?"
            )
        kept = _kept_edges(shares[i], g, tol, program)
        if kept is None:
            continue
        ops = sorted({_op_name(program, register) for register, _ in kept})
        built = " (or of an op it is built from)" if set(ops) & _COMPOSITE else ""
        return (
            f"{name}.grad is what {len(kept)} of its {len(shares[i])} uses give alone: a "
            f"gradient was replaced (=) instead of accumulated (+=), in the backward of "
            f"{', '.join(ops)}{built}"
        )
    return None


def _kept_edges(
    shares: list[tuple[int, float]], got: float, tol: Tolerance, program: Program
) -> list[tuple[int, float]] | None:
    """The proper, non-empty subset of ``shares`` that sums to ``got``, if one does."""
    if not 2 <= len(shares) <= _MAX_EDGES:
        return None
    matches = [
        list(subset)
        for size in range(1, len(shares))
        for subset in combinations(shares, size)
        if tol.close(got, sum(share for _, share in subset))
    ]
    ops = {tuple(sorted({_op_name(program, r) for r, _ in subset})) for subset in matches}
    return matches[0] if len(ops) == 1 else None  # two readings: say nothing


def _sums_to(shares: list[tuple[int, float]], got: float, tol: Tolerance) -> bool:
    """Whether some non-empty subset of ``shares`` (at most :data:`_MAX_EDGES`) sums to ``got``."""
    return any(
        tol.close(got, sum(share for _, share in subset))
        for size in range(1, min(len(shares), _MAX_EDGES) + 1)
        for subset in combinations(shares[:_MAX_EDGES], size)
    )


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
