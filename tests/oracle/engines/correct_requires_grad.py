"""A correct engine in PyTorch's manner: grad starts as None, only requires_grad leaves get one."""
import math


class Value:
    def __init__(self, data, requires_grad=False, _inputs=(), _local=()):
        self.data = float(data)
        self.requires_grad = requires_grad or any(v.requires_grad for v in _inputs)
        self.grad = None
        self._inputs = _inputs
        self._local = _local

    @staticmethod
    def _wrap(x):
        return x if isinstance(x, Value) else Value(x)

    def __add__(self, other):
        other = self._wrap(other)
        return Value(self.data + other.data, False, (self, other), (1.0, 1.0))

    def __radd__(self, other):
        return self + other

    def __mul__(self, other):
        other = self._wrap(other)
        return Value(self.data * other.data, False, (self, other), (other.data, self.data))

    def __rmul__(self, other):
        return self * other

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-self._wrap(other))

    def __rsub__(self, other):
        return self._wrap(other) - self

    def exp(self):
        e = math.exp(self.data)
        return Value(e, False, (self,), (e,))

    def tanh(self):
        t = math.tanh(self.data)
        return Value(t, False, (self,), (1 - t * t,))

    def backward(self):
        if not self.requires_grad:
            return  # a constant: nothing needs a gradient
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((v, False) for v in node._inputs if v.requires_grad)
        for node in order:
            if node._inputs:
                node.grad = None
        self.grad = 1.0
        for node in reversed(order):
            for v, d in zip(node._inputs, node._local):
                if v.requires_grad and node.grad is not None:
                    v.grad = d * node.grad if v.grad is None else v.grad + d * node.grad
