from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import Value
from micrograd.optim import SGD, linear_decay

grads = st.lists(st.floats(-10.0, 10.0, allow_nan=False), min_size=1, max_size=5)


class TestLinearDecay:
    """The schedule falls linearly from start to end over ``steps`` steps."""

    def test_is_micrograd_demo_schedule_to_the_bit(self) -> None:
        """linear_decay(100)(k) == 1.0 - 0.9*k/100 exactly for every k in 0..100."""
        schedule = linear_decay(100)
        assert [schedule(k) for k in range(101)] == [1.0 - 0.9 * k / 100 for k in range(101)]

    @given(
        steps=st.integers(1, 1000),
        start=st.floats(0.0, 10.0),
        end=st.floats(0.0, 10.0),
    )
    def test_starts_at_start_and_reaches_end(self, steps: int, start: float, end: float) -> None:
        """Step 0 gives start and step ``steps`` gives end (to rounding)."""
        schedule = linear_decay(steps, start, end)
        assert schedule(0) == start
        assert schedule(steps) == pytest.approx(end, abs=1e-12)

    @pytest.mark.parametrize("steps", [0, -1, 2.5, True])
    def test_bad_steps_raise(self, steps: object) -> None:
        """Steps must be an int of at least 1."""
        with pytest.raises(
            ValueError, match=rf"^steps must be an int of at least 1; got {steps!r}$"
        ):
            linear_decay(steps)  # type: ignore[arg-type]  # the bad values are the point


class TestSGD:
    """SGD updates p.data by -lr·grad, or with PyTorch's momentum rule, and follows its schedule."""

    @given(gs=grads, lr=st.floats(0.0, 2.0))
    def test_plain_step_is_data_minus_lr_grad(self, gs: list[float], lr: float) -> None:
        """Without momentum, one step sets p.data to exactly p.data - lr * p.grad."""
        params = [Value(1.0 + i) for i in range(len(gs))]
        for p, g in zip(params, gs, strict=True):
            p.grad = g
        SGD(params, lr=lr).step()
        assert [p.data for p in params] == [1.0 + i - lr * g for i, g in enumerate(gs)]

    @given(gs=st.lists(grads, min_size=1, max_size=4), momentum=st.floats(0.1, 0.99))
    def test_momentum_accumulates_velocity(self, gs: list[list[float]], momentum: float) -> None:
        """With momentum m, v = m·v + grad and p -= lr·v, step after step."""
        p = Value(0.0)
        opt = SGD([p], lr=0.5, momentum=momentum)
        v = expected = 0.0
        for step_grads in gs:
            p.grad = step_grads[0]
            opt.step()
            v = momentum * v + step_grads[0]
            expected -= 0.5 * v
        assert p.data == expected

    @pytest.mark.torch
    @settings(deadline=None)  # the first example imports torch
    @given(gs=st.lists(grads, min_size=1, max_size=4), momentum=st.floats(0.0, 0.99))
    def test_matches_torch_sgd(self, gs: list[list[float]], momentum: float) -> None:
        """The parameter after several steps equals torch.optim.SGD's to rounding.

        Not to the bit: PyTorch rounds ``p - lr·v`` once (a fused multiply-add),
        where Python rounds the product and the difference separately; on a
        quarter of single steps the two differ in the last bit.
        """
        torch = pytest.importorskip("torch")
        p = Value(0.25)
        t = torch.tensor([0.25], dtype=torch.float64, requires_grad=True)
        ours, theirs = (
            SGD([p], lr=0.3, momentum=momentum),
            torch.optim.SGD([t], lr=0.3, momentum=momentum),
        )
        for step_grads in gs:
            p.grad = step_grads[0]
            t.grad = torch.tensor([step_grads[0]], dtype=torch.float64)
            ours.step()
            theirs.step()
        assert p.data == pytest.approx(t.item(), rel=1e-15, abs=1e-15)

    def test_schedule_sets_each_steps_rate(self) -> None:
        """With a schedule, lr is schedule(steps_taken) and each step advances it."""
        p = Value(0.0)
        opt = SGD([p], lr=linear_decay(10))
        rates = []
        for _ in range(3):
            rates.append(opt.lr)
            p.grad = 1.0
            opt.step()
        assert rates == [1.0, 1.0 - 0.9 / 10, 1.0 - 0.9 * 2 / 10]
        assert opt.steps_taken == 3
        expected = 0.0
        for rate in rates:  # not -sum(rates): Python 3.12's sum() compensates rounding
            expected -= rate * 1.0
        assert p.data == expected

    def test_defaults_are_lr_one_tenth_and_no_momentum(self) -> None:
        """SGD(params) steps with lr 0.1 and momentum 0: p.data becomes p.data - 0.1 * p.grad."""
        p = Value(1.0)
        opt = SGD([p])
        assert (opt.lr, opt.momentum) == (0.1, 0.0)
        for _ in range(2):
            p.grad = 2.0
            opt.step()
        assert p.data == (1.0 - 0.1 * 2.0) - 0.1 * 2.0

    def test_zero_grad_clears_every_parameter(self) -> None:
        """zero_grad() sets each parameter's grad to 0.0."""
        params = [Value(1.0), Value(2.0)]
        (params[0] * params[1]).backward()
        opt = SGD(params)
        opt.zero_grad()
        assert [p.grad for p in params] == [0.0, 0.0]

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"momentum": 1.0}, r"^momentum must be in \[0, 1\); got 1\.0$"),
            ({"momentum": -0.5}, r"^momentum must be in \[0, 1\); got -0\.5$"),
            ({"lr": math.nan}, "^lr must be a finite number or a schedule; got nan$"),
            ({"lr": math.inf}, "^lr must be a finite number or a schedule; got inf$"),
        ],
    )
    def test_bad_settings_raise(self, kwargs: dict[str, float], message: str) -> None:
        """A momentum outside [0, 1) or a non-finite lr raises ValueError."""
        with pytest.raises(ValueError, match=message):
            SGD([Value(0.0)], **kwargs)

    def test_no_parameters_raise(self) -> None:
        """An empty parameter list raises ValueError."""
        with pytest.raises(ValueError, match=r"^SGD\(\) needs at least one parameter; got none$"):
            SGD([])

    def test_plain_sgd_keeps_no_velocity(self) -> None:
        """With momentum 0 a step is p - lr·grad alone: one infinite grad leaves no nan behind."""
        p = Value(0.0)
        opt = SGD([p], lr=0.5)
        for grad in (math.inf, 1.0):
            p.grad = grad
            opt.step()
        assert p.data == -math.inf  # a velocity 0·inf + 1 would have made it nan
