"""Gradient checking: analytic gradients from ``backward()`` against central differences."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from micrograd.engine import Value

__all__ = ["GradcheckError", "gradcheck", "numerical_gradient"]


class GradcheckError(AssertionError):
    """An analytic gradient disagreed with its central-difference estimate."""


def numerical_gradient(
    f: Callable[..., Value], inputs: Sequence[float], *, eps: float = 1e-6
) -> list[float]:
    """Central-difference estimates of df/dxᵢ: ``(f(x + eps·eᵢ) - f(x - eps·eᵢ)) / (2·eps)``.

    Args:
        f: A function of ``len(inputs)`` Values returning a Value.
        inputs: The point at which to differentiate.
        eps: The step; its error is O(eps²) plus rounding of order 1e-16/eps.
    """
    point = [float(x) for x in inputs]
    estimates = []
    for i, x in enumerate(point):
        up = [Value(v) for v in point]
        up[i] = Value(x + eps)
        down = [Value(v) for v in point]
        down[i] = Value(x - eps)
        estimates.append((f(*up).data - f(*down).data) / (2.0 * eps))
    return estimates


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[float],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check ``backward()`` of ``f`` at ``inputs`` against central differences.

    Each input's gradient ``a`` must satisfy ``|a - n| <= atol + rtol·|n|``
    against the numerical estimate ``n`` (the defaults are those of
    ``torch.autograd.gradcheck``). Pick points away from kinks such as relu's
    at 0, where no finite difference is meaningful.

    Args:
        f: A function of ``len(inputs)`` Values returning a Value.
        inputs: The point at which to check.
        eps: The central-difference step.
        atol: Absolute tolerance.
        rtol: Relative tolerance.
        raise_exception: Raise on failure (the default) instead of returning False.

    Returns:
        True when every gradient agrees; False when one does not and
        ``raise_exception`` is False.

    Raises:
        GradcheckError: On disagreement, naming the input and both numbers.

    Example:
        >>> gradcheck(lambda x, y: (x * y).tanh(), [0.5, -1.5])
        True
    """
    leaves = [Value(float(x)) for x in inputs]
    f(*leaves).backward()
    numeric = numerical_gradient(f, inputs, eps=eps)
    for i, (leaf, estimate) in enumerate(zip(leaves, numeric, strict=True)):
        analytic = leaf.grad
        if not abs(analytic - estimate) <= atol + rtol * abs(estimate):
            if not raise_exception:
                return False
            raise GradcheckError(
                f"gradient of input {i} disagrees at inputs={list(inputs)!r}: "
                f"backward() gave {analytic!r}, central differences (eps={eps}) gave "
                f"{estimate!r}; allowed |difference| <= {atol + rtol * abs(estimate):.3g}"
                + (" (a nan never agrees)" if math.isnan(analytic - estimate) else "")
            )
    return True
