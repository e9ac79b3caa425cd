"""micrograd.gradcheck: central differences against backward(), with a useful failure message."""

from __future__ import annotations

import pytest
from hypothesis import given

from micrograd import GradcheckError, gradcheck, numerical_gradient
from tests.strategies import reals


class TestNumericalGradient:
    """numerical_gradient estimates each partial derivative by central differences."""

    @given(x=reals(-3.0, 3.0), y=reals(-3.0, 3.0))
    def test_estimates_a_known_gradient(self, x: float, y: float) -> None:
        """For f = x²y the estimates are close to (2xy, x²)."""
        dx, dy = numerical_gradient(lambda a, b: a * a * b, [x, y])
        assert dx == pytest.approx(2 * x * y, abs=1e-6)
        assert dy == pytest.approx(x * x, abs=1e-6)


class TestGradcheck:
    """gradcheck passes correct gradients and reports disagreement with both numbers."""

    def test_passes_a_smooth_function(self) -> None:
        """A smooth composition of every unary op passes at an ordinary point."""
        assert gradcheck(
            lambda x, y: (x * y).tanh() + x.exp().log() + (y**2).sigmoid() + (x / y) ** 3,
            [0.7, -1.3],
        )

    def test_reports_a_kink_with_both_numbers(self) -> None:
        """At relu's kink backward() gives 0, central differences 0.5: GradcheckError says so."""
        with pytest.raises(
            GradcheckError, match=r"input 0 .* backward\(\) gave 0\.0, .* gave 0\.5"
        ):
            gradcheck(lambda x: x.relu(), [0.0])

    def test_can_return_false_instead_of_raising(self) -> None:
        """With raise_exception=False a disagreement returns False."""
        assert gradcheck(lambda x: x.relu(), [0.0], raise_exception=False) is False

    def test_nan_never_agrees(self) -> None:
        """A nan gradient fails, and the message says that nan never agrees."""
        with pytest.raises(GradcheckError, match="a nan never agrees"):
            gradcheck(lambda x: x.log(), [-1.0])

    def test_tolerances_are_applied(self) -> None:
        """A loose enough atol lets the relu kink pass; the default does not."""
        assert gradcheck(lambda x: x.relu(), [0.0], atol=0.6)

    def test_relative_tolerance_is_applied(self) -> None:
        """With atol 0, relu's kink (0 against 0.5) passes at rtol 1.0 and fails at rtol 0.99."""
        assert gradcheck(lambda x: x.relu(), [0.0], atol=0.0, rtol=1.0)
        assert not gradcheck(lambda x: x.relu(), [0.0], atol=0.0, rtol=0.99, raise_exception=False)

    def test_checks_every_input(self) -> None:
        """The second input's gradient is checked, not only the first."""
        with pytest.raises(GradcheckError, match="input 1"):
            gradcheck(lambda x, y: x * y.relu(), [1.0, 0.0])
