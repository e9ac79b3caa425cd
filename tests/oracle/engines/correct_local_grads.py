"""A correct engine storing local gradients, iterative topological sort, class named Scalar."""
import math


class Scalar:
    __slots__ = ("data", "grad", "_prev", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = float(data)
        self.grad = 0.0
        self._prev = tuple(children)
        self._local_grads = tuple(local_grads)

    @staticmethod
    def _lift(x):
        return x if isinstance(x, Scalar) else Scalar(x)

    def __add__(self, other):
        other = self._lift(other)
        return Scalar(self.data + other.data, (self, other), (1.0, 1.0))

    def __radd__(self, other):
        return self._lift(other) + self

    def __sub__(self, other):
        other = self._lift(other)
        return Scalar(self.data - other.data, (self, other), (1.0, -1.0))

    def __rsub__(self, other):
        return self._lift(other) - self

    def __mul__(self, other):
        other = self._lift(other)
        return Scalar(self.data * other.data, (self, other), (other.data, self.data))

    def __rmul__(self, other):
        return self._lift(other) * self

    def __truediv__(self, other):
        other = self._lift(other)
        q = self.data / other.data
        return Scalar(q, (self, other), (1.0 / other.data, -q / other.data))

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def __pow__(self, other):
        if isinstance(other, Scalar):
            out = self.data ** other.data
            return Scalar(out, (self, other),
                          (other.data * self.data ** (other.data - 1), out * math.log(self.data)))
        return Scalar(self.data ** other, (self,), (other * self.data ** (other - 1),))

    def __rpow__(self, other):
        return self._lift(other) ** self

    def __neg__(self):
        return Scalar(-self.data, (self,), (-1.0,))

    def exp(self):
        e = math.exp(self.data)
        return Scalar(e, (self,), (e,))

    def log(self):
        return Scalar(math.log(self.data), (self,), (1.0 / self.data,))

    def tanh(self):
        t = math.tanh(self.data)
        return Scalar(t, (self,), (1.0 - t * t,))

    def relu(self):
        return Scalar(max(0.0, self.data), (self,), (1.0 if self.data > 0 else 0.0,))

    def sigmoid(self):
        s = 1.0 / (1.0 + math.exp(-self.data))
        return Scalar(s, (self,), (s * (1.0 - s),))

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((c, False) for c in node._prev)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            for child, local in zip(node._prev, node._local_grads):
                child.grad += local * node.grad
