"""Losses for ±1 labels: the max-margin (hinge) loss, L2 regularisation, and accuracy."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from micrograd.engine import Value

__all__ = ["accuracy", "hinge_loss", "l2_penalty", "max_margin_loss"]


def hinge_loss(scores: Sequence[Value], labels: Sequence[float]) -> Value:
    """The mean max-margin loss ``(1/n) Σ relu(1 - yᵢ·scoreᵢ)``, one node per term and one sum.

    A point costs nothing once its score has the sign of its label with a
    margin of at least 1, and more the further it is on the wrong side.

    Raises:
        ValueError: If there are no scores, or not one label per score.
    """
    _check_lengths(scores, labels)
    margins = [(1.0 - y * s).relu() for s, y in zip(scores, labels, strict=True)]
    return Value.sum(margins) / len(margins)


def l2_penalty(parameters: Iterable[Value], alpha: float) -> Value:
    """``alpha · Σ p²`` over ``parameters``: weight decay, written as a loss term.

    Raises:
        ValueError: If there are no parameters.
    """
    squares = [p * p for p in parameters]
    if not squares:
        raise ValueError("l2_penalty() needs at least one parameter; got none")
    return alpha * Value.sum(squares)


def max_margin_loss(
    scores: Sequence[Value],
    labels: Sequence[float],
    parameters: Iterable[Value],
    alpha: float = 1e-4,
) -> Value:
    """The demo's training loss: ``hinge_loss(scores, labels) + l2_penalty(parameters, alpha)``."""
    return hinge_loss(scores, labels) + l2_penalty(parameters, alpha)


def accuracy(scores: Sequence[Value | float], labels: Sequence[float]) -> float:
    """The fraction of points whose score has the sign of their label (a score of 0 counts as -1).

    A label of 0 counts as -1 too: a point is right when ``score > 0`` and
    ``label > 0`` are both true or both false.

    Raises:
        ValueError: If there are no scores, or not one label per score.
    """
    _check_lengths(scores, labels)
    right = 0
    for s, y in zip(scores, labels, strict=True):
        score = s.data if isinstance(s, Value) else s
        right += (score > 0.0) == (y > 0.0)
    return right / len(scores)


def _check_lengths(scores: Sequence[object], labels: Sequence[float]) -> None:
    if len(scores) != len(labels):
        raise ValueError(
            f"need one label per score; got {len(scores)} scores, {len(labels)} labels"
        )
    if not scores:
        raise ValueError("need at least one score; got none")
