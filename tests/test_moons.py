"""The regression the project is judged by: the demo configuration, trained, pinned.

The nox session ``moons`` runs this file. It trains the demo's default
configuration (100 moons points, noise 0.1, MLP 2 -> 16 -> 16 -> 1 relu,
max-margin loss + 1e-4 L2, full batch, 100 SGD steps with lr 1.0 -> 0.1,
seed 0) and checks three things:

- the outcome: 100% training accuracy and a final loss below ``LOSS_BOUND``;
- the data: the first moons points, bit for bit, so that a platform whose
  ``math`` functions (``sin``, ``cos``, and ``log``, ``sqrt`` in
  ``random.gauss``) round differently is told so, rather than blamed on the
  engine;
- the loss trajectory: ``GOLDEN`` losses at several steps, bit for bit.

Why the golden values are compared exactly (tolerance 0): after the data is
made, the whole run is IEEE 754 ``+``, ``*``, ``/`` and ``relu``, which give the
same bits on every platform and Python. And training is stable enough that
small numeric changes stay small: moving every initial weight by one ulp, or
computing the mean as ``sum * (1/n)`` instead of ``sum / n``, changes these
losses by only 2e-16 to 5e-15 relative. Any tolerance would let such a change
through unseen; the point of the pin is that someone looks at it. If a change
is intended, replace the values with the ones the failure message prints.
"""

from __future__ import annotations

import pytest

from micrograd.demo import DEFAULT_SEED, DemoConfig, DemoResult, run_demo

LOSS_BOUND = 0.02
"""The final training loss must be below this (it is about 0.0129)."""

GOLDEN: dict[int, float] = {
    0: 0.9538259693775365,
    1: 0.9570501134713455,
    2: 2.3069178254959235,
    5: 0.29754426412438195,
    10: 0.1825101536783039,
    25: 0.05733047494670537,
    50: 0.017270525310513513,
    75: 0.015029516555045364,
    99: 0.012312660374725492,
}
"""The loss reported at these steps (before each step's update), from a real run."""

GOLDEN_FINAL_LOSS = 0.012868263771877463
"""The loss on all points after the last update."""

FIRST_POINTS = [
    (0.2382699168014582, 1.0854316871711605),
    (1.033369825188795, 0.332232088480367),
    (0.8787556521455564, 0.4695441507192949),
]
"""The first three points of make_moons(100, 0.1, seed=0)."""


@pytest.fixture(scope="module")
def result() -> DemoResult:
    """One training run of the demo's default configuration, shared by the tests below."""
    return run_demo()


class TestDemoConfiguration:
    """The default configuration is the documented one."""

    def test_defaults_are_the_pinned_configuration(self) -> None:
        """DemoConfig() is 100 points, noise 0.1, 16-16 relu, 100 steps, alpha 1e-4, seed 0."""
        assert DemoConfig() == DemoConfig(
            seed=0,
            steps=100,
            samples=100,
            noise=0.1,
            hidden=(16, 16),
            activation="relu",
            alpha=1e-4,
        )
        assert DEFAULT_SEED == 0


class TestMoonsRegression:
    """Trained with the defaults, the MLP separates the moons, along the pinned trajectory."""

    def test_reaches_full_training_accuracy_and_a_low_loss(self, result: DemoResult) -> None:
        """After 100 steps every training point is right and the loss is below the bound."""
        assert result.accuracy == 1.0
        assert result.loss < LOSS_BOUND
        assert result.history[-1].accuracy == 1.0

    def test_data_is_the_pinned_moons(self, result: DemoResult) -> None:
        """The first points match to the bit; if not, the platform's math library differs."""
        assert result.X[:3] == FIRST_POINTS
        assert len(result.X) == 100

    def test_loss_trajectory_is_pinned(self, result: DemoResult) -> None:
        """The losses at the golden steps and after training equal the recorded ones exactly."""
        observed = {k: result.history[k].loss for k in GOLDEN}
        assert (observed, result.loss) == (GOLDEN, GOLDEN_FINAL_LOSS), (
            "the moons loss trajectory changed; if intended, update GOLDEN and "
            f"GOLDEN_FINAL_LOSS to:\n{observed!r}\n{result.loss!r}"
        )
