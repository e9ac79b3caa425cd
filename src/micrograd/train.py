"""The training loop: full-batch or minibatch SGD on the max-margin loss, reporting every step."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol, TextIO

from micrograd.engine import Value, gc_paused
from micrograd.losses import accuracy, max_margin_loss
from micrograd.optim import SGD, _is_count, linear_decay

__all__ = ["Evaluation", "Model", "StepReport", "evaluate", "format_report", "progress", "train"]


class Model(Protocol):
    """What the loop trains: maps a point to a score and lists its parameters (an ``MLP`` does)."""

    def __call__(self, x: Sequence[float], /) -> Value:
        """The score of the point ``x``."""
        ...  # pragma: no cover - a protocol member has no body

    def parameters(self) -> list[Value]:
        """The trainable Values, in a stable order."""
        ...  # pragma: no cover - a protocol member has no body


class StepReport(NamedTuple):
    """What one training step saw, before its update."""

    step: int
    """The step number, from 0."""
    loss: float
    """The loss on the step's batch."""
    accuracy: float
    """The accuracy on the step's batch, from 0 to 1."""
    lr: float
    """The learning rate of the step's update."""


class Evaluation(NamedTuple):
    """The loss and the accuracy of a model on a data set."""

    loss: float
    """The max-margin loss with its L2 term."""
    accuracy: float
    """The fraction of points classified right, from 0 to 1."""


def evaluate(
    model: Model, X: Sequence[Sequence[float]], y: Sequence[float], alpha: float = 1e-4
) -> Evaluation:
    """The loss (as in training, with ``alpha``) and the accuracy of ``model`` on all of ``X``."""
    scores = [model(x) for x in X]
    loss = max_margin_loss(scores, y, model.parameters(), alpha)
    return Evaluation(loss.data, accuracy(scores, y))


def train(
    model: Model,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    *,
    steps: int = 100,
    optimizer: SGD | None = None,
    alpha: float = 1e-4,
    batch_size: int | None = None,
    seed: int = 0,
    on_step: Callable[[StepReport], None] | None = None,
) -> list[StepReport]:
    """Train ``model`` on ``X, y`` for ``steps`` steps of loss, ``zero_grad``, ``backward``, update.

    The loss is ``max_margin_loss`` of the batch's scores with L2 factor
    ``alpha``. Each step's report (loss and accuracy before its update) goes
    to ``on_step`` as soon as it is known, and all of them are returned.
    Each step runs with Python's cyclic garbage collector paused
    (:func:`micrograd.engine.gc_paused`); ``on_step`` runs with it as it was.

    Args:
        model: The model to train in place, e.g. an ``MLP`` with one output.
        X: The points.
        y: Their ±1 labels.
        steps: The number of updates, at least 1.
        optimizer: The optimizer over ``model.parameters()``; by default
            ``SGD`` with ``linear_decay(steps)``, from 1.0 down to 0.1.
        alpha: The L2 regularisation factor.
        batch_size: Points per step, drawn without replacement from a
            ``random.Random(seed)``; ``None`` (the default) trains on all of
            ``X`` in order every step.
        seed: Seeds the minibatch draws.
        on_step: Called with each step's report, e.g. :func:`progress`.

    Raises:
        ValueError: If ``steps`` or ``batch_size`` is out of range, or ``X``
            and ``y`` differ in length or are empty.
    """
    if not _is_count(steps):
        raise ValueError(f"steps must be an int of at least 1; got {steps!r}")
    if len(X) != len(y) or not X:
        raise ValueError(f"need as many labels as points, at least one; got {len(X)} and {len(y)}")
    if batch_size is not None and not 1 <= batch_size <= len(X):
        raise ValueError(f"batch_size must be from 1 to {len(X)} (the points); got {batch_size!r}")
    if optimizer is None:
        optimizer = SGD(model.parameters(), lr=linear_decay(steps))
    rng = random.Random(seed)
    reports = []
    for k in range(steps):
        if batch_size is None:
            Xb, yb = X, y
        else:
            batch = rng.sample(range(len(X)), batch_size)
            Xb, yb = [X[i] for i in batch], [y[i] for i in batch]
        # The step's graph has no reference cycles: reference counting frees it,
        # inside the block, so the cyclic collector need not scan it (gc_paused).
        with gc_paused():
            scores = [model(x) for x in Xb]
            loss = max_margin_loss(scores, yb, model.parameters(), alpha)
            report = StepReport(k, loss.data, accuracy(scores, yb), optimizer.lr)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            del scores, loss
        reports.append(report)
        if on_step is not None:
            on_step(report)
    return reports


def format_report(report: StepReport, steps: int) -> str:
    """One progress line, e.g. ``step  10/100  loss 0.3021  accuracy  91.0%  lr 0.9100``."""
    width = len(str(steps))
    return (
        f"step {report.step:>{width}}/{steps}  loss {report.loss:.4f}  "
        f"accuracy {100 * report.accuracy:5.1f}%  lr {report.lr:.4f}"
    )


def progress(
    steps: int, *, every: int = 1, file: TextIO | None = None
) -> Callable[[StepReport], None]:
    """An ``on_step`` callback printing :func:`format_report` every ``every`` steps and at the last.

    Args:
        steps: The number of steps of the run, for the ``k/steps`` display.
        every: Print one step in ``every``; the first and last always print.
        file: Where to print; standard output (looked up when printing) by default.
    """

    def report(r: StepReport) -> None:
        if r.step % every == 0 or r.step == steps - 1:
            print(format_report(r, steps), file=sys.stdout if file is None else file, flush=True)

    return report
