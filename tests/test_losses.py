from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from micrograd import Value
from micrograd.losses import accuracy, hinge_loss, l2_penalty, max_margin_loss

scores_st = st.floats(-5.0, 5.0, allow_nan=False)
labels_st = st.sampled_from([-1.0, 1.0])
pairs = st.lists(st.tuples(scores_st, labels_st), min_size=1, max_size=20)


class TestHingeLoss:
    """hinge_loss is mean(relu(1 - y·score)); its gradient is -y/n inside the margin, else 0."""

    @given(pairs=pairs)
    @example(pairs=[(1.0, 1.0)])  # exactly on the margin: the relu kink
    @example(pairs=[(-1.0, -1.0), (0.0, 1.0)])
    def test_value_and_gradient_follow_the_formula(self, pairs: list[tuple[float, float]]) -> None:
        """The loss equals the float formula; d loss/d score is -y/n where y·score < 1, else 0."""
        scores = [Value(s) for s, _ in pairs]
        labels = [y for _, y in pairs]
        loss = hinge_loss(scores, labels)
        n = len(pairs)
        expected = sum(max(0.0, 1.0 - y * s) for s, y in pairs) / n
        assert loss.data == pytest.approx(expected, rel=1e-12, abs=1e-15)
        loss.backward()
        for v, (s, y) in zip(scores, pairs, strict=True):
            assert v.grad == (-y / n if 1.0 - y * s > 0.0 else 0.0)

    @given(pairs=pairs)
    def test_loss_is_zero_exactly_when_every_margin_is_met(
        self, pairs: list[tuple[float, float]]
    ) -> None:
        """The loss is 0 if and only if y·score >= 1 for every point."""
        loss = hinge_loss([Value(s) for s, _ in pairs], [y for _, y in pairs])
        assert (loss.data == 0.0) == all(y * s >= 1.0 for s, y in pairs)

    @pytest.mark.parametrize(
        ("scores", "labels", "message"),
        [
            ([], [], "^need at least one score; got none$"),
            ([Value(1.0)], [1.0, -1.0], "^need one label per score; got 1 scores, 2 labels$"),
        ],
    )
    def test_bad_lengths_raise(
        self, scores: list[Value], labels: list[float], message: str
    ) -> None:
        """Empty input or a label count that differs from the score count raises ValueError."""
        with pytest.raises(ValueError, match=message):
            hinge_loss(scores, labels)


class TestL2Penalty:
    """l2_penalty is alpha·Σp², with gradient 2·alpha·p."""

    @given(
        ps=st.lists(st.floats(-10.0, 10.0, allow_nan=False), min_size=1, max_size=10),
        alpha=st.floats(0.0, 1.0),
    )
    def test_value_and_gradient(self, ps: list[float], alpha: float) -> None:
        """The penalty equals alpha·Σp² and each parameter's grad is 2·alpha·p."""
        params = [Value(p) for p in ps]
        penalty = l2_penalty(params, alpha)
        assert penalty.data == pytest.approx(alpha * sum(p * p for p in ps), rel=1e-12, abs=1e-300)
        penalty.backward()
        assert [p.grad for p in params] == pytest.approx([2 * alpha * p for p in ps], rel=1e-12)

    def test_no_parameters_raises(self) -> None:
        """An empty parameter list raises ValueError."""
        with pytest.raises(
            ValueError, match=r"^l2_penalty\(\) needs at least one parameter; got none$"
        ):
            l2_penalty([], 1e-4)


class TestMaxMarginLoss:
    """The training loss is the hinge loss plus the L2 penalty."""

    def test_is_hinge_plus_penalty(self) -> None:
        """max_margin_loss equals hinge_loss + l2_penalty, value for value."""
        scores, labels, params = [Value(0.3), Value(-2.0)], [1.0, -1.0], [Value(0.5), Value(-1.5)]
        total = max_margin_loss(scores, labels, params, alpha=0.01)
        parts = hinge_loss(scores, labels).data + l2_penalty(params, 0.01).data
        assert total.data == parts
        assert total.data == pytest.approx((0.7 + 0.0) / 2 + 0.01 * (0.25 + 2.25))

    def test_alpha_defaults_to_the_demos(self) -> None:
        """Without alpha, the L2 factor is the demo's 1e-4."""
        scores, labels, params = [Value(0.3), Value(-2.0)], [1.0, -1.0], [Value(0.5), Value(-1.5)]
        total = max_margin_loss(scores, labels, params)
        assert total.data == hinge_loss(scores, labels).data + l2_penalty(params, 1e-4).data
        assert total.data == 0.35 + 1e-4 * 2.5


class TestAccuracy:
    """accuracy is the fraction of scores whose sign matches the label, a 0 meaning -1 in either."""

    @given(pairs=pairs, as_values=st.booleans())
    @example(pairs=[(0.0, -1.0), (0.0, 1.0)], as_values=False)
    def test_counts_sign_agreements(
        self, pairs: list[tuple[float, float]], as_values: bool
    ) -> None:
        """Accuracy is #(score > 0 iff y > 0) / n, for Values and plain floats alike."""
        scores: list[Value | float] = [Value(s) if as_values else s for s, _ in pairs]
        labels = [y for _, y in pairs]
        right = sum((s > 0.0) == (y > 0.0) for s, y in pairs)
        assert accuracy(scores, labels) == right / len(pairs)

    def test_zero_score_counts_as_negative(self) -> None:
        """A score of exactly 0 is a -1 prediction."""
        assert accuracy([0.0, 0.0], [-1.0, 1.0]) == 0.5

    def test_zero_label_counts_as_negative(self) -> None:
        """A label of exactly 0 is a -1 label: scores of 0 and below match it, positive ones not."""
        assert accuracy([0.0, -1.0, 1.0], [0.0, 0.0, 0.0]) == 2 / 3

    def test_bad_lengths_raise(self) -> None:
        """Mismatched lengths raise ValueError."""
        with pytest.raises(ValueError, match="one label per score"):
            accuracy([1.0], [])
