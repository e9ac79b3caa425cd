"""The README's examples from the user's side, for the type checker only: never executed."""

from __future__ import annotations

from micrograd import GradcheckError, Value, gradcheck
from micrograd.rules import RULES, Rule


def readme_example() -> tuple[float, float]:
    """The README's first example type-checks, and its gradients are floats."""
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    e = (c - d).tanh() + (a / b).exp().log() + d.relu() + (2**b).sigmoid()
    e.backward()
    return a.grad, b.grad


def numbers_on_both_sides(x: Value) -> Value:
    """Every operator takes an int or a float on either side and gives a Value."""
    y: Value = 1 + x + 2.0 - x * 3 / x
    y = 2 - y
    y = 3 * y
    y = 4 / y
    y = y**2 + y**-0.5 + 2**y + y**x
    return -y


def fused(xs: list[Value], ws: list[float]) -> Value:
    """Value.sum and Value.dot take iterables of Values or numbers."""
    return Value.sum([Value.dot(ws, xs, start=1.0), *xs, 3.0])


def graph(v: Value) -> tuple[tuple[Value, ...], tuple[float, ...], str, str]:
    """A node's structure is readable with precise types."""
    return v.children, v.local_grads, v.op, v.label


def checking() -> bool:
    """Gradcheck returns a bool and raises GradcheckError."""
    try:
        return gradcheck(lambda x, y: x * y, [1.0, 2.0], eps=1e-6, atol=1e-5, rtol=1e-3)
    except GradcheckError as error:
        message: str = str(error)
        return not message


def rules_table() -> list[str]:
    """RULES maps names to Rule records."""
    rule: Rule = RULES["tanh"]
    value, local_grads = rule.apply(0.5)
    return [rule.name, rule.symbol, str(value + local_grads[0])]
