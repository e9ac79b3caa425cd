"""The one parity helper: run the same expression on micrograd and on a witness, compare everything.

A witness is PyTorch float64 (``torch_result``) or a plain second
implementation and its central differences (``numeric_result``, independent of
the engine, for the sessions without torch). Every op test and every DAG test
goes through ``assert_parity``, so a tolerance or a comparison rule is decided
here once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from micrograd import Value
from tests.plain import central_differences, plain_value


@dataclass(frozen=True)
class Result:
    """The value of an expression and the gradient of that value with respect to each input."""

    value: float
    grads: tuple[float, ...]


@dataclass(frozen=True)
class Tolerance:
    """Floats agree if ``|a - b| <= abs + rel * max(|a|, |b|)``, or are equal infinities or nan."""

    rel: float
    abs: float = 0.0
    signed_zero: bool = False
    """Whether a zero value must also have the witness's sign (gradients are never held to it:
    a leaf's grad accumulates from +0.0, where PyTorch's is the first contribution itself)."""


ULP = 2.0**-52
"""The spacing of floats at 1.0."""

TORCH_OP = Tolerance(rel=4 * ULP, abs=4 * ULP, signed_zero=True)
"""One op against PyTorch: within 4 ulps of the larger number, or of 1.0 near zero.

Arithmetic agrees to the bit; exp, log, tanh and pow come from the C library here and from
PyTorch's own kernels there, which differ in the last bit, and a derivative such as
``1 - tanh²`` turns that bit into an absolute error of an ulp of 1.0."""

TORCH_DAG = Tolerance(rel=1e-9, abs=1e-12)
"""A random DAG against PyTorch: last-bit differences compound through a dozen ops and cancel."""

NUMERIC = Tolerance(rel=1e-4, abs=1e-6)
"""Against central differences, whose own error is about eps² · f''' + 1e-16 · |f| / eps."""


def micrograd_result(fn: Callable[..., Any], inputs: Sequence[float]) -> Result:
    """``fn`` evaluated on fresh micrograd leaves, then ``backward()``."""
    leaves = [Value(x) for x in inputs]
    out: Value = fn(*leaves)
    out.backward()
    return Result(out.data, tuple(leaf.grad for leaf in leaves))


def torch_result(fn: Callable[..., Any], inputs: Sequence[float]) -> Result:
    """``fn`` evaluated on 0-dim float64 torch tensors, then ``backward()``."""
    import torch  # noqa: PLC0415 - torch is optional; only parity tests call this

    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    out = fn(*leaves)
    out.backward()
    return Result(
        float(out.item()),
        tuple(0.0 if leaf.grad is None else float(leaf.grad.item()) for leaf in leaves),
    )


def numeric_result(fn: Callable[..., Any], inputs: Sequence[float]) -> Result:
    """``fn``'s value from ``tests.plain`` and its gradient from central differences of that.

    Nothing here runs the engine, so a wrong forward pass in the engine is
    seen even where its derivative matches it.
    """
    return Result(plain_value(fn, inputs), tuple(central_differences(fn, inputs)))


def same_float(a: float, b: float) -> bool:
    """Whether ``a`` and ``b`` are the same float: equal with the same sign of zero, or both nan."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def agree(a: float, b: float, tol: Tolerance) -> bool:
    """Whether ``a`` and ``b`` agree within ``tol`` (nan agrees only with nan)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol.abs + tol.rel * max(abs(a), abs(b))


def assert_parity(
    fn: Callable[..., Any],
    inputs: Sequence[float],
    witness: Callable[[Callable[..., Any], Sequence[float]], Result],
    tol: Tolerance,
    *,
    description: str = "",
) -> None:
    """Assert that micrograd and ``witness`` agree on ``fn``'s value and every input's gradient."""
    ours = micrograd_result(fn, inputs)
    theirs = witness(fn, inputs)
    pairs = [("value", ours.value, theirs.value)] + [
        (f"d/dx{i}", a, b) for i, (a, b) in enumerate(zip(ours.grads, theirs.grads, strict=True))
    ]
    wrong = [(what, a, b) for what, a, b in pairs if not agree(a, b, tol)]
    zero = 0.0 in (ours.value, theirs.value)
    if (
        tol.signed_zero
        and zero
        and math.copysign(1.0, ours.value) != math.copysign(1.0, theirs.value)
    ):
        wrong.append(("sign of the zero value", ours.value, theirs.value))
    assert not wrong, (
        f"{description or 'expression'} at inputs {list(inputs)!r}: micrograd and "
        f"{witness.__name__} disagree (rel {tol.rel:.3g}, abs {tol.abs:.3g}):\n"
        + "\n".join(f"  {what}: micrograd {a!r}, witness {b!r}" for what, a, b in wrong)
    )


def doubled(apply: Callable[..., tuple[float, tuple[float, ...]]]) -> Callable[..., Any]:
    """A probe: the rule ``apply`` with its value and every local derivative doubled."""

    def probe(*args: Any) -> tuple[float, tuple[float, ...]]:
        value, local_grads = apply(*args)
        return 2.0 * value, tuple(2.0 * d for d in local_grads)

    return probe
