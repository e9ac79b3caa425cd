"""Stochastic gradient descent with optional momentum and a learning-rate schedule."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from micrograd.engine import Value

__all__ = ["SGD", "Schedule", "linear_decay"]

Schedule = Callable[[int], float]
"""A learning rate as a function of the step number, counted from 0."""


def linear_decay(steps: int, start: float = 1.0, end: float = 0.1) -> Schedule:
    """The learning rate ``start - (start - end)·k/steps`` at step k: ``start`` at 0, ``end`` at ``steps``.

    With the defaults and ``steps=100`` this is micrograd's demo schedule
    ``1.0 - 0.9·k/100``, to the bit. Past ``steps`` it keeps falling.

    Raises:
        ValueError: If ``steps`` is below 1.
    """  # noqa: E501 - the formula belongs on the summary line
    if not _is_count(steps):
        raise ValueError(f"steps must be an int of at least 1; got {steps!r}")
    drop = start - end

    def schedule(k: int) -> float:
        return start - drop * k / steps

    return schedule


class SGD:
    """Gradient descent on ``parameters``: ``p.data -= lr · v`` with ``v = momentum·v + p.grad``.

    This is PyTorch's ``torch.optim.SGD`` update (without dampening or
    Nesterov); with ``momentum=0`` it is plain ``p.data -= lr · p.grad``.

    Args:
        parameters: The Values to train, e.g. ``model.parameters()``.
        lr: A fixed learning rate, or a :data:`Schedule` giving the rate for
            each step (see :func:`linear_decay`).
        momentum: The momentum factor, in [0, 1).

    Raises:
        ValueError: If ``momentum`` is outside [0, 1) or ``parameters`` is empty.

    Example:
        >>> w = Value(3.0)
        >>> opt = SGD([w], lr=0.5)
        >>> opt.zero_grad(); (w * w).backward(); opt.step()
        >>> w.data
        0.0
    """

    __slots__ = ("_lr", "_velocity", "momentum", "parameters", "steps_taken")

    parameters: list[Value]
    """The Values updated by :meth:`step`."""
    momentum: float
    """The momentum factor; 0 for plain gradient descent."""
    steps_taken: int
    """How many times :meth:`step` has run; the step number the schedule sees next."""

    def __init__(
        self, parameters: Iterable[Value], lr: float | Schedule = 0.1, momentum: float = 0.0
    ) -> None:
        self.parameters = list(parameters)
        if not self.parameters:
            raise ValueError("SGD() needs at least one parameter; got none")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1); got {momentum!r}")
        if not callable(lr) and not math.isfinite(lr):
            raise ValueError(f"lr must be a finite number or a schedule; got {lr!r}")
        self._lr = lr
        self.momentum = momentum
        self.steps_taken = 0
        self._velocity = [0.0] * len(self.parameters)

    @property
    def lr(self) -> float:
        """The learning rate the next :meth:`step` will use."""
        return self._lr(self.steps_taken) if callable(self._lr) else self._lr

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0.0 (``backward()`` accumulates into leaves)."""
        for p in self.parameters:
            p.grad = 0.0

    def step(self) -> None:
        """Move every parameter against its gradient, then advance the schedule by one step."""
        lr = self.lr
        if self.momentum == 0.0:
            # No velocity at all, so that plain SGD is p -= lr·grad to the bit.
            for p in self.parameters:
                p.data -= lr * p.grad
        else:
            for i, p in enumerate(self.parameters):
                v = self.momentum * self._velocity[i] + p.grad
                self._velocity[i] = v
                p.data -= lr * v
        self.steps_taken += 1


def _is_count(n: object) -> bool:
    """Whether ``n`` is an ``int`` (not a ``bool``) of at least 1."""
    return isinstance(n, int) and not isinstance(n, bool) and n >= 1
