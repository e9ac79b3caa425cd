"""The scalar autograd engine: the ``Value`` node and reverse-mode ``backward()``."""

from __future__ import annotations

import gc
import numbers
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeAlias, cast

from micrograd import rules

__all__ = ["Operand", "Value", "gc_paused"]

Operand: TypeAlias = "Value | float"
"""What an op accepts on either side: a ``Value`` or a plain number."""


class Value:
    """A scalar in a computation graph: its ``data``, and its ``grad`` once ``backward()`` ran.

    Operators and methods on Values build new nodes; each node keeps its
    inputs (``children``) and the partial derivatives of its value with
    respect to them (``local_grads``), so ``backward()`` is the chain rule and
    nothing else.

    Args:
        data: The number held. ``int`` and other real numbers are stored as
            ``float``; ``bool``, strings, complex numbers and other types
            raise ``TypeError``.
        label: An optional name, shown when the graph is drawn.

    Example:
        >>> a, b = Value(2.0), Value(3.0)
        >>> c = a * b + a
        >>> c.backward()
        >>> (c.data, a.grad, b.grad)
        (8.0, 4.0, 2.0)
    """

    # How a node holds its inputs, in as little memory as possible (most
    # nodes have one or two inputs, and a tuple would cost more than the node):
    #
    #   leaf         _a = _b = None
    #   one input    _a = the input, _da = d(node)/d(_a);         _b = None
    #   two inputs   _a, _b = the inputs, _da, _db = d(node)/d(them)
    #   sum, dot     _a = a tuple of the inputs, _da = a tuple of their derivatives; _b = None
    #
    # ``_op`` holds the op's symbol ("" for a leaf), or the pair (symbol,
    # label) once the node has a label: few nodes have one, and a slot of its
    # own would cost every node 8 bytes.
    __slots__ = ("_a", "_b", "_da", "_db", "_mark", "_op", "data", "grad")

    data: float
    """The value of this node, computed when the node was built."""
    grad: float
    """d(root)/d(this node), filled in by ``root.backward()``; 0.0 before."""
    _a: Any  # Value | tuple[Value, ...] | None, as above
    _b: Value | None
    _da: Any  # float | tuple[float, ...]
    _db: float
    _mark: int  # during backward(): 1 while its inputs are visited, 2 once they are; else 0
    _op: str | tuple[str, str]

    def __init__(self, data: float, label: str = "") -> None:
        self.data = data if type(data) is float else _to_float(data)
        self.grad = 0.0
        self._mark = 0
        self._a = self._b = None
        self._da = self._db = 0.0
        self._op = ("", label) if label else ""

    @property
    def label(self) -> str:
        """An optional name, for drawing and debugging; ``""`` when unset."""
        op = self._op
        return "" if type(op) is str else op[1]

    @label.setter
    def label(self, name: str) -> None:
        self._op = (self.op, name) if name else self.op

    @property
    def children(self) -> tuple[Value, ...]:
        """The inputs this node was computed from, in argument order; ``()`` for a leaf."""
        a = self._a
        if a is None or type(a) is tuple:
            return a or ()
        return (a,) if self._b is None else (a, self._b)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d(this node)/d(child) for each child, in the order of ``children``."""
        a = self._a
        if a is None:
            return ()
        if type(a) is tuple:
            return self._da  # type: ignore[no-any-return]
        return (self._da,) if self._b is None else (self._da, self._db)

    @property
    def op(self) -> str:
        """The op that made this node (``"+"``, ``"tanh"``, ``"**2"`` …); ``""`` for a leaf."""
        op = self._op
        return op if type(op) is str else op[0]

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # Arithmetic. A plain number on either side becomes a leaf Value; any
    # other type gets NotImplemented, so Python raises its usual TypeError.

    def __add__(self, other: Operand) -> Value:
        o = other if isinstance(other, Value) else _lift(other)
        if o is None:
            return NotImplemented
        return _binary(rules.add(self.data, o.data), self, o, "+")

    def __radd__(self, other: float) -> Value:  # other + self
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _binary(rules.add(o.data, self.data), o, self, "+")

    def __sub__(self, other: Operand) -> Value:
        o = other if isinstance(other, Value) else _lift(other)
        if o is None:
            return NotImplemented
        return _binary(rules.sub(self.data, o.data), self, o, "-")

    def __rsub__(self, other: float) -> Value:  # other - self
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _binary(rules.sub(o.data, self.data), o, self, "-")

    def __mul__(self, other: Operand) -> Value:
        o = other if isinstance(other, Value) else _lift(other)
        if o is None:
            return NotImplemented
        return _binary(rules.mul(self.data, o.data), self, o, "*")

    def __rmul__(self, other: float) -> Value:  # other * self
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _binary(rules.mul(o.data, self.data), o, self, "*")

    def __truediv__(self, other: Operand) -> Value:
        o = other if isinstance(other, Value) else _lift(other)
        if o is None:
            return NotImplemented
        return _binary(rules.div(self.data, o.data), self, o, "/")

    def __rtruediv__(self, other: float) -> Value:  # other / self
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _binary(rules.div(o.data, self.data), o, self, "/")

    def __pow__(self, other: Operand) -> Value:
        """``self ** other``: a number exponent is a constant, a Value exponent gets a gradient."""
        if isinstance(other, Value):
            return _binary(rules.pow(self.data, other.data), self, other, "**")
        k = _lift_number(other)
        if k is None:
            return NotImplemented
        return _unary(rules.pow_const(self.data, k), self, f"**{k:g}")

    def __rpow__(self, other: float) -> Value:  # other ** self
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _binary(rules.pow(o.data, self.data), o, self, "**")

    def __neg__(self) -> Value:
        return _unary(rules.neg(self.data), self, "neg")

    # Functions.

    def exp(self) -> Value:
        """``e ** self``; overflow gives ``inf``."""
        return _unary(rules.exp(self.data), self, "exp")

    def log(self) -> Value:
        """Natural logarithm; ``log(0)`` is ``-inf`` and ``log(x < 0)`` is ``nan``."""
        return _unary(rules.log(self.data), self, "log")

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _unary(rules.tanh(self.data), self, "tanh")

    def relu(self) -> Value:
        """``max(0, self)``, with relu'(0) = 0 as in PyTorch."""
        return _unary(rules.relu(self.data), self, "relu")

    def sigmoid(self) -> Value:
        """The logistic function ``1 / (1 + e ** -self)``."""
        return _unary(rules.sigmoid(self.data), self, "sigmoid")

    # Fused n-ary ops: one node where a chain of + and * would build many.

    @staticmethod
    def sum(terms: Iterable[Operand]) -> Value:
        """The sum of one or more terms as a single node.

        Its value and every gradient are bit-for-bit those of the chained
        ``terms[0] + terms[1] + …``, with less memory and time.

        Raises:
            ValueError: If ``terms`` is empty.
            TypeError: If a term is not a Value or a number.
        """
        children = _lift_all(terms, "Value.sum")
        if not children:
            raise ValueError("Value.sum() needs at least one term; got none")
        return _nary(rules.sum([c.data for c in children]), children, "sum")

    @staticmethod
    def dot(weights: Iterable[Operand], inputs: Iterable[Operand], start: Operand = 0.0) -> Value:
        """``start + Σ weights[i] * inputs[i]`` as a single node: a neuron's weighted sum.

        Its value and every gradient are bit-for-bit those of the chained
        ``((start + w₀*x₀) + w₁*x₁) + …``, with less memory and time.
        ``children`` are all the weights, then all the inputs, then ``start``.

        Raises:
            ValueError: If ``weights`` and ``inputs`` differ in length.
            TypeError: If an item is not a Value or a number.
        """
        ws = _lift_all(weights, "Value.dot")
        xs = _lift_all(inputs, "Value.dot")
        if len(ws) != len(xs):
            raise ValueError(
                f"Value.dot() needs as many weights as inputs; got {len(ws)} and {len(xs)}"
            )
        b = start if isinstance(start, Value) else _lift_or_raise(start, "Value.dot")
        return _dot(ws, xs, [x.data for x in xs], b)

    # Backpropagation.

    def backward(self) -> None:
        """Fill in ``grad`` on every node this one depends on: d(self)/d(node).

        Leaves (Values made by ``Value(...)``) *accumulate*, as in PyTorch:
        each call adds this call's gradient to what ``grad`` held, so calling
        ``backward()`` twice leaves every leaf's ``grad`` at exactly twice one
        call's. Reset leaves between steps (``Module.zero_grad()``) when that
        is not what you want. Intermediate nodes hold the gradient of the
        latest call. ``self.grad`` becomes 1.0 (added to its earlier grad if
        ``self`` is a leaf).

        The graph is walked without recursion, so graphs of any depth work.
        If the call is interrupted (by Ctrl-C, say), leaves keep the grads
        they had before it.
        """
        earlier: list[tuple[Value, float]] = []  # (leaf, its grad before this call)
        try:
            order = _visit(self, earlier)
            self.grad = 1.0
            _apply_chain_rule(order)
        except BaseException:  # e.g. KeyboardInterrupt: no marked node, leaves as they were
            _reset_marks(self)
            for leaf, grad in earlier:
                leaf.grad = grad
            raise
        # Gradients accumulate on leaves. Adding the earlier gradient last
        # (not first) makes two calls give exactly twice one call's.
        for leaf, grad in earlier:
            leaf.grad += grad


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector inside the block; it restarts on exit.

    Reference counting frees a graph of Values on its own: nodes point only
    to their inputs, so graphs hold no reference cycles. The cyclic
    collector would nevertheless scan the growing graph again and again
    while it is built. Pausing it is pure saving for graph code; cycles that
    other code makes meanwhile are collected after the block. The
    collector's state is process-wide: on exit it is left as it was found
    (so blocks nest), even if the block raises.

    Example:
        >>> with gc_paused():
        ...     y = (Value(2.0) * 3.0).tanh()
        ...     y.backward()
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# backward() in two passes over the graph, both without recursion, so that
# graphs of any depth work: a depth-first walk that lists the nodes in
# topological order, then the chain rule along that list. The walk keeps its
# state in each node's ``_mark``: in a slot of the node, found in the same
# memory as its grad, rather than in a set (on large graphs, memory traffic
# is most of the cost).


def _visit(root: Value, earlier: list[tuple[Value, float]]) -> list[Value]:
    """Every node ``root`` depends on, inputs before the nodes made from them, grads zeroed.

    Each leaf's grad is appended to ``earlier`` as ``(leaf, grad)`` before it
    is zeroed. Inputs are visited first input first: where only leaves are
    reused, the chain rule then meets each leaf's users in the order PyTorch
    does.
    """
    order = []
    stack = [root]
    while stack:
        node = stack[-1]
        if not node._mark:  # first time on top: put its unvisited inputs above it
            node._mark = 1
            a = node._a
            if a is None:  # a leaf
                earlier.append((node, node.grad))
            else:
                b = node._b
                inputs = reversed(a) if type(a) is tuple else (a,) if b is None else (b, a)
                for child in inputs:  # the first input ends up on top
                    if not child._mark:
                        stack.append(child)
            node.grad = 0.0
        else:
            stack.pop()
            if node._mark == 1:  # its inputs are all in the list (else: a second copy)
                node._mark = 2
                order.append(node)
    return order


def _apply_chain_rule(order: list[Value]) -> None:
    """Pass each node's gradient to its inputs, ``order`` taken backwards; reset the marks."""
    for node in reversed(order):
        node._mark = 0
        a = node._a
        if a is None:  # a leaf passes nothing on
            continue
        upstream = node.grad
        if type(a) is tuple:
            for child, local in zip(a, node._da):  # noqa: B905 - equal lengths by construction
                child.grad += local * upstream
        else:
            a.grad += node._da * upstream
            b = node._b
            if b is not None:
                b.grad += node._db * upstream


def _reset_marks(root: Value) -> None:
    """Set ``_mark`` back to 0 on every node ``root`` depends on."""
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        node._mark = 0
        for child in node.children:
            if child not in seen:
                seen.add(child)
                stack.append(child)


# Building nodes. ``rule_result`` is what a function of ``rules`` returned.


def _unary(rule_result: tuple[float, tuple[float, ...]], a: Value, op: str) -> Value:
    """A new node with the one input ``a``."""
    node = _new(Value)
    node.data, (node._da,) = rule_result
    node.grad = 0.0
    node._mark = 0
    node._op = op
    node._a = a
    node._b = None
    node._db = 0.0
    return node


def _binary(rule_result: tuple[float, tuple[float, ...]], a: Value, b: Value, op: str) -> Value:
    """A new node with the inputs ``a`` and ``b``, in that order."""
    node = _new(Value)
    node.data, (node._da, node._db) = rule_result
    node.grad = 0.0
    node._mark = 0
    node._op = op
    node._a = a
    node._b = b
    return node


def _nary(
    rule_result: tuple[float, tuple[float, ...]], inputs: tuple[Value, ...], op: str
) -> Value:
    """A new node with any number of ``inputs`` (the fused ``sum`` and ``dot``)."""
    node = _new(Value)
    node.data, node._da = rule_result
    node.grad = 0.0
    node._mark = 0
    node._op = op
    node._a = inputs
    node._b = None
    node._db = 0.0
    return node


def _dot(ws: Sequence[Value], xs: Sequence[Value], xd: Sequence[float], b: Value) -> Value:
    """``Value.dot(ws, xs, b)`` unchecked: Values of equal length, and ``xd`` the data of ``xs``.

    A layer calls this once per neuron with the same inputs, so it reads
    their data once for all its neurons.
    """
    return _nary(rules.dot([w.data for w in ws], xd, b.data), (*ws, *xs, b), "dot")


_new = object.__new__


def _lift_number(x: object) -> float | None:
    """``x`` as a float if it is a real number other than a bool, else None."""
    if type(x) is float:
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return None
    return float(x)


def _lift(x: object) -> Value | None:
    """``x`` as a Value: itself, a new leaf for a number, or None for anything else."""
    if isinstance(x, Value):
        return x
    number = _lift_number(x)
    return None if number is None else Value(number)


def _lift_all(items: Iterable[object], where: str) -> tuple[Value, ...]:
    """``items`` as a tuple of Values, numbers lifted to leaves; TypeError for anything else."""
    items = tuple(items)
    # Usually every item is a Value already: checking their types in one pass
    # of C (map) costs far less than a Python call per item.
    if set(map(type, items)) <= {Value}:
        return cast("tuple[Value, ...]", items)
    return tuple(_lift_or_raise(x, where) for x in items)


def _lift_or_raise(x: object, where: str) -> Value:
    lifted = _lift(x)
    if lifted is None:
        raise TypeError(f"{where}() takes Values and numbers; got {type(x).__name__}: {x!r}")
    return lifted


def _to_float(data: object) -> float:
    number = _lift_number(data)
    if number is None:
        hint = " (use 1.0 or 0.0)" if isinstance(data, bool) else ""
        raise TypeError(
            f"Value() takes a real number (int or float); got {type(data).__name__}: {data!r}{hint}"
        )
    return number
