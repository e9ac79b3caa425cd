"""Small two-class 2-D data sets in pure Python, labelled ±1 for the max-margin loss.

``make_moons`` and ``make_circles`` follow scikit-learn's geometry point for
point (class 0 there is label -1 here, class 1 is +1); the noise and the
shuffle come from a ``random.Random`` seeded with ``seed``, so a data set is
reproducible but not bit-identical to scikit-learn's noisy one.
"""

from __future__ import annotations

import math
import random
from typing import NamedTuple

__all__ = ["Dataset", "Point", "make_blobs", "make_circles", "make_moons"]

Point = tuple[float, float]
"""A point of the plane, ``(x, y)``."""


class Dataset(NamedTuple):
    """Points and their labels, in the same order; unpacks as ``X, y = make_moons()``."""

    X: list[Point]
    """The points."""
    y: list[float]
    """The label of each point: -1.0 or +1.0."""


def make_moons(
    n_samples: int = 100, noise: float = 0.0, seed: int = 0, *, shuffle: bool = True
) -> Dataset:
    """Two interleaving half circles, as ``sklearn.datasets.make_moons``.

    The upper moon (label -1) holds ``n_samples // 2`` points on the unit
    half circle; the lower moon (label +1) holds the rest, on the half circle
    of centre (1, 0.5) opening upwards. Points are evenly spaced in angle.

    Args:
        n_samples: The number of points, at least 2.
        noise: The standard deviation of Gaussian noise added to each coordinate.
        seed: Seeds the ``random.Random`` used for the shuffle and the noise.
        shuffle: Shuffle the points; unshuffled, the -1 points come first.

    Raises:
        ValueError: If ``n_samples`` is below 2 or ``noise`` is negative or not finite.
    """
    _check(n_samples, noise)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer = [(math.cos(t), math.sin(t)) for t in _linspace(math.pi, n_out, endpoint=True)]
    inner = [
        (1 - math.cos(t), 1 - math.sin(t) - 0.5) for t in _linspace(math.pi, n_in, endpoint=True)
    ]
    return _finish(outer, inner, noise, seed, shuffle)


def make_circles(
    n_samples: int = 100,
    noise: float = 0.0,
    seed: int = 0,
    *,
    factor: float = 0.8,
    shuffle: bool = True,
) -> Dataset:
    """A circle (label +1) inside a larger one (label -1), as ``sklearn.datasets.make_circles``.

    The outer circle has radius 1 and ``n_samples // 2`` points; the inner
    one has radius ``factor`` and the rest.

    Args:
        n_samples: The number of points, at least 2.
        noise: The standard deviation of Gaussian noise added to each coordinate.
        seed: Seeds the ``random.Random`` used for the shuffle and the noise.
        factor: The inner circle's radius, between 0 and 1 (excluded).
        shuffle: Shuffle the points; unshuffled, the -1 points come first.

    Raises:
        ValueError: If ``n_samples`` is below 2, ``noise`` is negative or not
            finite, or ``factor`` is not in [0, 1).
    """
    _check(n_samples, noise)
    if not 0.0 <= factor < 1.0:
        raise ValueError(f"factor must be in [0, 1); got {factor!r}")
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer = [(math.cos(t), math.sin(t)) for t in _linspace(2 * math.pi, n_out, endpoint=False)]
    inner = [
        (math.cos(t) * factor, math.sin(t) * factor)
        for t in _linspace(2 * math.pi, n_in, endpoint=False)
    ]
    return _finish(outer, inner, noise, seed, shuffle)


def make_blobs(
    n_samples: int = 100,
    noise: float = 0.5,
    seed: int = 0,
    *,
    centers: tuple[Point, Point] = ((-1.0, -1.0), (1.0, 1.0)),
    shuffle: bool = True,
) -> Dataset:
    """Two Gaussian blobs: ``n_samples // 2`` points around ``centers[0]`` (label -1), the rest around ``centers[1]``.

    Args:
        n_samples: The number of points, at least 2.
        noise: The standard deviation of each blob, in each coordinate.
        seed: Seeds the ``random.Random`` used for the shuffle and the noise.
        centers: The centres of the -1 blob and of the +1 blob.
        shuffle: Shuffle the points; unshuffled, the -1 points come first.

    Raises:
        ValueError: If ``n_samples`` is below 2 or ``noise`` is negative or not finite.
    """  # noqa: E501 - the summary line names both blobs
    _check(n_samples, noise)
    n_out = n_samples // 2
    (ax, ay), (bx, by) = centers
    return _finish([(ax, ay)] * n_out, [(bx, by)] * (n_samples - n_out), noise, seed, shuffle)


def _linspace(stop: float, n: int, *, endpoint: bool) -> list[float]:
    """``numpy.linspace(0, stop, n, endpoint)``, computed as numpy computes it."""
    if not endpoint:
        return [i * (stop / n) for i in range(n)]
    if n == 1:
        return [0.0]
    step = stop / (n - 1)
    return [*(i * step for i in range(n - 1)), stop]


def _finish(
    negatives: list[Point], positives: list[Point], noise: float, seed: int, shuffle: bool
) -> Dataset:
    """Label, shuffle and add noise, in scikit-learn's order: shuffle first, then noise."""
    rng = random.Random(seed)
    X = [*negatives, *positives]
    y = [-1.0] * len(negatives) + [1.0] * len(positives)
    if shuffle:
        order = list(range(len(X)))
        rng.shuffle(order)
        X = [X[i] for i in order]
        y = [y[i] for i in order]
    if noise > 0.0:
        X = [(px + rng.gauss(0.0, noise), py + rng.gauss(0.0, noise)) for px, py in X]
    return Dataset(X, y)


def _check(n_samples: object, noise: float) -> None:
    if not isinstance(n_samples, int) or isinstance(n_samples, bool) or n_samples < 2:
        raise ValueError(f"n_samples must be an int of at least 2; got {n_samples!r}")
    if not (math.isfinite(noise) and noise >= 0.0):
        raise ValueError(f"noise must be a finite number of at least 0; got {noise!r}")
