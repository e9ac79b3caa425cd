from __future__ import annotations

import math
import random
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd.data import Dataset, make_blobs, make_circles, make_moons

sizes = st.integers(2, 300)
seeds = st.integers(0, 2**32 - 1)


class TestSklearnGeometry:
    """Without noise, the moons and circles are scikit-learn's, point for point."""

    @pytest.mark.parametrize("n", [*range(2, 12), 99, 100, 101, 1000])
    def test_moons_equal_sklearn_unshuffled(self, n: int) -> None:
        """make_moons(n, shuffle=False) equals sklearn's make_moons to the bit, class 0 as -1."""
        datasets = pytest.importorskip("sklearn.datasets")
        X_ref, y_ref = datasets.make_moons(n, shuffle=False)
        points, labels = make_moons(n, shuffle=False)
        assert points == [tuple(p) for p in X_ref.tolist()]
        assert labels == [2.0 * t - 1.0 for t in y_ref.tolist()]

    @pytest.mark.parametrize("n", [*range(2, 12), 100, 101, 1000])
    @pytest.mark.parametrize("factor", [0.0, 0.5, 0.8])
    def test_circles_equal_sklearn_unshuffled(self, n: int, factor: float) -> None:
        """make_circles(n, factor=f, shuffle=False) equals sklearn's make_circles to the bit."""
        datasets = pytest.importorskip("sklearn.datasets")
        X_ref, y_ref = datasets.make_circles(n, shuffle=False, factor=factor)
        points, labels = make_circles(n, factor=factor, shuffle=False)
        assert points == [tuple(p) for p in X_ref.tolist()]
        assert labels == [2.0 * t - 1.0 for t in y_ref.tolist()]

    @given(n=sizes, seed=seeds)
    def test_shuffle_permutes_points_with_their_labels(self, n: int, seed: int) -> None:
        """A shuffled data set holds the same (point, label) pairs as the unshuffled one."""
        shuffled = make_moons(n, seed=seed)
        plain = make_moons(n, shuffle=False)
        assert sorted(zip(*shuffled, strict=True)) == sorted(zip(*plain, strict=True))


class TestLabels:
    """Every data set labels its points ±1, with n // 2 points labelled -1."""

    @given(n=sizes, seed=seeds, make=st.sampled_from([make_moons, make_circles, make_blobs]))
    def test_labels_are_plus_minus_one_split_in_half(self, n: int, seed: int, make: object) -> None:
        """Labels are only -1.0 and +1.0, -1 for n // 2 points, +1 for the rest."""
        assert callable(make)
        X, y = make(n, seed=seed)
        assert len(X) == len(y) == n
        assert y.count(-1.0) == n // 2
        assert y.count(1.0) == n - n // 2


class TestNoise:
    """Noise is Gaussian with the requested standard deviation and reproducible from the seed."""

    @given(seed=seeds, noise=st.floats(0.01, 1.0))
    def test_same_seed_same_data_other_seed_other_data(self, seed: int, noise: float) -> None:
        """Two calls with one seed agree exactly; the next seed gives other points."""
        assert make_moons(50, noise, seed) == make_moons(50, noise, seed)
        assert make_moons(50, noise, seed).X != make_moons(50, noise, seed + 1).X

    @pytest.mark.parametrize("noise", [0.05, 0.1, 0.3])
    def test_noise_has_the_requested_standard_deviation(self, noise: float) -> None:
        """The displacement from the noiseless points has mean about 0 and sd about ``noise``."""
        noisy = make_moons(4000, noise, seed=3)
        clean = make_moons(4000, 0.0, seed=3)  # same shuffle: it comes before the noise
        assert noisy.y == clean.y
        moves = [
            a - b for p, q in zip(noisy.X, clean.X, strict=True) for a, b in zip(p, q, strict=True)
        ]
        assert abs(statistics.fmean(moves)) < 0.1 * noise
        assert statistics.stdev(moves) == pytest.approx(noise, rel=0.05)

    def test_global_random_state_is_untouched(self) -> None:
        """Making data neither reads nor advances Python's global random generator."""
        before = random.getstate()
        make_moons(100, 0.1, 1)
        assert random.getstate() == before


class TestBlobs:
    """Blobs are centred on their centres."""

    def test_blob_means_are_near_their_centres(self) -> None:
        """Each label's points average to its centre, within a few standard errors."""
        X, y = make_blobs(2000, 0.5, seed=1, centers=((-2.0, 1.0), (3.0, 0.0)))
        for label, (cx, cy) in ((-1.0, (-2.0, 1.0)), (1.0, (3.0, 0.0))):
            pts = [p for p, t in zip(X, y, strict=True) if t == label]
            assert statistics.fmean(p[0] for p in pts) == pytest.approx(cx, abs=0.1)
            assert statistics.fmean(p[1] for p in pts) == pytest.approx(cy, abs=0.1)

    def test_noiseless_blobs_sit_on_their_centres(self) -> None:
        """With noise 0, every point is exactly its label's centre."""
        X, y = make_blobs(10, 0.0, shuffle=False)
        assert X == [(-1.0, -1.0)] * 5 + [(1.0, 1.0)] * 5
        assert y == [-1.0] * 5 + [1.0] * 5


class TestValidation:
    """Bad sizes and noise levels raise ValueError naming the argument."""

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"n_samples": 1}, "n_samples must be an int of at least 2; got 1"),
            ({"n_samples": 2.0}, "n_samples must be an int"),
            ({"n_samples": True}, "n_samples must be an int"),
            ({"noise": -0.1}, "noise must be a finite number of at least 0"),
            ({"noise": math.nan}, "noise must be a finite number"),
            ({"noise": math.inf}, "noise must be a finite number"),
        ],
    )
    def test_bad_arguments_raise(self, kwargs: dict[str, object], message: str) -> None:
        """make_moons rejects a bad n_samples or noise with a clear ValueError."""
        with pytest.raises(ValueError, match=message):
            make_moons(**kwargs)  # type: ignore[arg-type]  # the bad values are the point

    @pytest.mark.parametrize("factor", [-0.1, 1.0, math.nan])
    def test_bad_circle_factor_raises(self, factor: float) -> None:
        """make_circles needs 0 <= factor < 1."""
        with pytest.raises(ValueError, match=r"factor must be in \[0, 1\)"):
            make_circles(10, factor=factor)

    def test_dataset_unpacks_as_points_and_labels(self) -> None:
        """A Dataset is a (X, y) pair with named fields."""
        data = make_moons(4, shuffle=False)
        assert isinstance(data, Dataset)
        X, y = data
        assert (X, y) == (data.X, data.y)
