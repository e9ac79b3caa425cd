"""The scalar autograd engine: the ``Value`` node and reverse-mode ``backward()``."""

from __future__ import annotations

import gc
import numbers
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeAlias, cast

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

    __slots__ = ("_children", "_local_grads", "_op", "_pending", "data", "grad", "label")

    data: float
    """The value of this node, computed when the node was built."""
    grad: float
    """d(root)/d(this node), filled in by ``root.backward()``; 0.0 before."""
    label: str
    """An optional name for drawing and debugging; ``""`` when unset."""
    _children: tuple[Value, ...]
    _local_grads: tuple[float, ...]
    _op: str
    _pending: int  # during backward(): parents yet to pass their gradient down; else 0

    def __init__(self, data: float, label: str = "") -> None:
        self.data = data if type(data) is float else _to_float(data)
        self.grad = 0.0
        self.label = label
        self._pending = 0
        self._children = ()
        self._local_grads = ()
        self._op = ""

    @property
    def children(self) -> tuple[Value, ...]:
        """The inputs this node was computed from, in argument order; ``()`` for a leaf."""
        return self._children

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d(this node)/d(child) for each child, in the order of ``children``."""
        return self._local_grads

    @property
    def op(self) -> str:
        """The op that made this node (``"+"``, ``"tanh"``, ``"**2"`` …); ``""`` for a leaf."""
        return self._op

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # Arithmetic. A plain number on either side becomes a leaf Value; any
    # other type gets NotImplemented, so Python raises its usual TypeError.

    def __add__(self, other: Operand) -> Value:
        o = other if isinstance(other, Value) else _lift(other)
        if o is None:
            return NotImplemented
        return _node(rules.add(self.data, o.data), (self, o), "+")

    def __radd__(self, other: float) -> Value:  # other + self
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(rules.add(o.data, self.data), (o, self), "+")

    def __sub__(self, other: Operand) -> Value:
        o = other if isinstance(other, Value) else _lift(other)
        if o is None:
            return NotImplemented
        return _node(rules.sub(self.data, o.data), (self, o), "-")

    def __rsub__(self, other: float) -> Value:  # other - self
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(rules.sub(o.data, self.data), (o, self), "-")

    def __mul__(self, other: Operand) -> Value:
        o = other if isinstance(other, Value) else _lift(other)
        if o is None:
            return NotImplemented
        return _node(rules.mul(self.data, o.data), (self, o), "*")

    def __rmul__(self, other: float) -> Value:  # other * self
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(rules.mul(o.data, self.data), (o, self), "*")

    def __truediv__(self, other: Operand) -> Value:
        o = other if isinstance(other, Value) else _lift(other)
        if o is None:
            return NotImplemented
        return _node(rules.div(self.data, o.data), (self, o), "/")

    def __rtruediv__(self, other: float) -> Value:  # other / self
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(rules.div(o.data, self.data), (o, self), "/")

    def __pow__(self, other: Operand) -> Value:
        """``self ** other``: a number exponent is a constant, a Value exponent gets a gradient."""
        if isinstance(other, Value):
            return _node(rules.pow(self.data, other.data), (self, other), "**")
        k = _lift_number(other)
        if k is None:
            return NotImplemented
        return _node(rules.pow_const(self.data, k), (self,), f"**{k:g}")

    def __rpow__(self, other: float) -> Value:  # other ** self
        o = _lift(other)
        if o is None:
            return NotImplemented
        return _node(rules.pow(o.data, self.data), (o, self), "**")

    def __neg__(self) -> Value:
        return _node(rules.neg(self.data), (self,), "neg")

    # Functions.

    def exp(self) -> Value:
        """``e ** self``; overflow gives ``inf``."""
        return _node(rules.exp(self.data), (self,), "exp")

    def log(self) -> Value:
        """Natural logarithm; ``log(0)`` is ``-inf`` and ``log(x < 0)`` is ``nan``."""
        return _node(rules.log(self.data), (self,), "log")

    def tanh(self) -> Value:
        """Hyperbolic tangent."""
        return _node(rules.tanh(self.data), (self,), "tanh")

    def relu(self) -> Value:
        """``max(0, self)``, with relu'(0) = 0 as in PyTorch."""
        return _node(rules.relu(self.data), (self,), "relu")

    def sigmoid(self) -> Value:
        """The logistic function ``1 / (1 + e ** -self)``."""
        return _node(rules.sigmoid(self.data), (self,), "sigmoid")

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
        return _node(rules.sum([c.data for c in children]), children, "sum")

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
        value = rules.dot([w.data for w in ws], [x.data for x in xs], b.data)
        return _node(value, (*ws, *xs, b), "dot")

    # Backpropagation.

    def backward(self) -> None:
        """Fill in ``grad`` on every node this one depends on: d(self)/d(node).

        Leaves (Values made by ``Value(...)``) *accumulate*, as in PyTorch:
        each call adds this call's gradient to what ``grad`` held, so calling
        ``backward()`` twice leaves every leaf's ``grad`` at exactly twice one
        call's. Reset leaves between steps (``Module.zero_grad()``) when that
        is not what you want. Intermediate nodes hold the gradient of the
        latest call. ``self.grad`` becomes 1.0.

        The graph is walked without recursion, so graphs of any depth work.
        """
        # 1. Find every node this one depends on. On each interior node, count
        #    in ``_pending`` the edges that lead into it from above; its grad
        #    restarts at 0. Leaves' grads are set aside, to be added back in
        #    step 3. (A count on the node, not in a dict, is found in the same
        #    memory as its grad: on large graphs that is most of the cost.)
        earlier: dict[Value, float] = {} if self._children else {self: self.grad}
        stack = [self]
        try:
            while stack:
                node = stack.pop()
                node.grad = 0.0
                for child in node._children:
                    if not child._children:
                        if child not in earlier:
                            earlier[child] = child.grad
                            child.grad = 0.0
                    elif child._pending:
                        child._pending += 1
                    else:
                        child._pending = 1
                        stack.append(child)

            # 2. The chain rule, in topological order (Kahn's algorithm): a node
            #    passes its gradient down only once every parent has passed it
            #    theirs. Explicit stacks, not recursion, so any depth works. A
            #    leaf passes nothing down, so it needs no place in the order.
            self.grad = 1.0
            ready = [self]
            while ready:
                node = ready.pop()
                upstream = node.grad
                # Equal lengths by construction: one local derivative per child.
                for child, local in zip(node._children, node._local_grads, strict=False):
                    child.grad += local * upstream
                    if child._children:
                        child._pending -= 1
                        if not child._pending:
                            ready.append(child)
        except BaseException:  # e.g. KeyboardInterrupt: leave no half-counted node behind
            _reset_pending(self)
            raise

        # 3. Gradients accumulate on leaves. Adding the earlier gradient last
        #    (not first) makes two calls give exactly twice one call's.
        for leaf, grad in earlier.items():
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


def _reset_pending(root: Value) -> None:
    """Set ``_pending`` back to 0 on every node ``root`` depends on."""
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        node._pending = 0
        for child in node._children:
            if child not in seen:
                seen.add(child)
                stack.append(child)


def _node(
    rule_result: tuple[float, tuple[float, ...]], children: tuple[Value, ...], op: str
) -> Value:
    """A new interior node; ``rule_result`` is what a function of ``rules`` returned."""
    node = Value.__new__(Value)
    node.data, node._local_grads = rule_result
    node.grad = 0.0
    node.label = ""
    node._pending = 0
    node._children = children
    node._op = op
    return node


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
