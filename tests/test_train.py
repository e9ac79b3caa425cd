from __future__ import annotations

import io
from typing import Any

import pytest

from micrograd.data import make_blobs, make_moons
from micrograd.losses import accuracy, max_margin_loss
from micrograd.nn import MLP, Activation
from micrograd.optim import SGD, linear_decay
from micrograd.train import StepReport, evaluate, format_report, progress, train

BLOBS = make_blobs(40, 0.3, seed=2)


class TestTrain:
    """The loop reports each step before its update and the model improves."""

    def test_reports_every_step_in_order_and_learns_separable_blobs(self) -> None:
        """Training on two well-separated blobs reports steps 0..n-1 and ends at 100% accuracy."""
        model = MLP(2, [8, 1], seed=1)
        seen: list[StepReport] = []
        history = train(model, *BLOBS, steps=20, on_step=seen.append)
        assert seen == history
        assert [r.step for r in history] == list(range(20))
        assert history[-1].loss < history[0].loss
        assert evaluate(model, *BLOBS).accuracy == 1.0

    def test_is_the_documented_loop_written_out(self) -> None:
        """train() reports and updates as loss, zero_grad, backward and SGD step written out."""
        model, twin = MLP(2, [8, 1], seed=1), MLP(2, [8, 1], seed=1)
        history = train(model, *BLOBS, steps=20)
        opt = SGD(twin.parameters(), lr=linear_decay(20))
        expected = []
        for k in range(20):
            scores = [twin(x) for x in BLOBS.X]
            loss = max_margin_loss(scores, BLOBS.y, twin.parameters(), 1e-4)
            expected.append(StepReport(k, loss.data, accuracy(scores, BLOBS.y), opt.lr))
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert history == expected
        assert [p.data for p in model.parameters()] == [p.data for p in twin.parameters()]

    def test_first_report_is_the_untrained_models_loss(self) -> None:
        """Step 0 reports evaluate() of the untrained model: the loss is taken before the update."""
        before = evaluate(MLP(2, [4, 1], seed=9), *BLOBS)
        history = train(MLP(2, [4, 1], seed=9), *BLOBS, steps=1)
        assert (history[0].loss, history[0].accuracy) == before

    def test_default_optimizer_decays_linearly_from_one_to_a_tenth(self) -> None:
        """Without an optimizer, step k uses lr 1.0 - 0.9·k/steps."""
        history = train(MLP(2, [4, 1]), *BLOBS, steps=4)
        assert [r.lr for r in history] == [1.0 - 0.9 * k / 4 for k in range(4)]

    def test_given_optimizer_is_used(self) -> None:
        """A given optimizer's learning rate is the one reported, and its steps are counted."""
        model = MLP(2, [4, 1])
        opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
        history = train(model, *BLOBS, steps=3, optimizer=opt)
        assert [r.lr for r in history] == [0.05] * 3
        assert opt.steps_taken == 3

    def test_minibatches_are_reproducible_and_sized(self) -> None:
        """With batch_size b, accuracies are multiples of 1/b and the same seed repeats the run."""
        runs = [
            train(MLP(2, [4, 1], seed=3), *BLOBS, steps=5, batch_size=8, seed=11) for _ in range(2)
        ]
        assert runs[0] == runs[1]
        assert all((r.accuracy * 8).is_integer() for r in runs[0])
        other = train(MLP(2, [4, 1], seed=3), *BLOBS, steps=5, batch_size=8, seed=12)
        assert other != runs[0]

    def test_full_size_batch_samples_every_point(self) -> None:
        """A batch as large as the data set sees every point, so step 0 matches full batch."""
        full = train(MLP(2, [4, 1], seed=3), *BLOBS, steps=1)
        batch = train(MLP(2, [4, 1], seed=3), *BLOBS, steps=1, batch_size=len(BLOBS.X))
        assert batch[0].accuracy == full[0].accuracy
        assert batch[0].loss == pytest.approx(full[0].loss, rel=1e-12)

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"steps": 0}, "steps must be an int of at least 1"),
            ({"batch_size": 0}, "batch_size must be from 1 to 40"),
            ({"batch_size": 41}, "batch_size must be from 1 to 40"),
        ],
    )
    def test_bad_settings_raise(self, kwargs: dict[str, Any], message: str) -> None:
        """Out-of-range steps or batch sizes raise ValueError."""
        with pytest.raises(ValueError, match=message):
            train(MLP(2, [2, 1]), *BLOBS, **kwargs)

    def test_mismatched_data_raises(self) -> None:
        """Points and labels of different lengths raise ValueError."""
        with pytest.raises(ValueError, match="as many labels as points"):
            train(MLP(2, [2, 1]), BLOBS.X, BLOBS.y[:-1])


class TestAgainstTorch:
    """The whole training step (forward, max-margin loss, L2, backward, SGD) matches PyTorch."""

    @pytest.mark.torch
    @pytest.mark.parametrize("activation", ["relu", "tanh"])
    def test_trajectory_matches_torch_float64(self, activation: Activation) -> None:
        """Ten full-batch steps on 30 moons points give PyTorch's losses and final weights."""
        torch = pytest.importorskip("torch")
        X, y = make_moons(30, 0.1, seed=4)
        model = MLP(2, [8, 8, 1], activation, seed=4)
        tensors = [
            (
                torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64),
                torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64),
            )
            for layer in model.layers
        ]
        params = [t.requires_grad_() for pair in tensors for t in pair]
        act = torch.relu if activation == "relu" else torch.tanh
        inputs = torch.tensor(X, dtype=torch.float64)
        labels = torch.tensor(y, dtype=torch.float64)
        theirs = []
        for k in range(10):
            h = inputs
            for i, (w, b) in enumerate(tensors):
                h = h @ w.T + b
                if i < len(tensors) - 1:
                    h = act(h)
            loss = torch.relu(1 - labels * h[:, 0]).mean() + 1e-4 * sum(
                (p * p).sum() for p in params
            )
            theirs.append(loss.item())
            for p in params:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p.sub_((1.0 - 0.9 * k / 10) * p.grad)
        ours = [r.loss for r in train(model, X, y, steps=10)]
        assert ours == pytest.approx(theirs, rel=1e-10)
        final = [
            v
            for w, b in tensors
            for row, bias in zip(w.tolist(), b.tolist(), strict=True)
            for v in (*row, bias)
        ]
        assert [p.data for p in model.parameters()] == pytest.approx(final, rel=1e-9, abs=1e-12)


class TestProgress:
    """Progress lines show step, loss, accuracy and learning rate."""

    def test_format_report(self) -> None:
        """A report formats as one aligned line."""
        line = format_report(StepReport(7, 0.123456, 0.97, 0.5), 100)
        assert line == "step   7/100  loss 0.1235  accuracy  97.0%  lr 0.5000"

    def test_prints_every_nth_and_the_last_step(self) -> None:
        """progress(steps, every=n) prints steps 0, n, 2n, ... and the last one."""
        out = io.StringIO()
        callback = progress(7, every=3, file=out)
        for k in range(7):
            callback(StepReport(k, 1.0, 0.5, 0.1))
        assert [line.split("/")[0] for line in out.getvalue().splitlines()] == [
            "step 0",
            "step 3",
            "step 6",
        ]

    def test_prints_to_standard_output_by_default(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Without a file, progress lines go to sys.stdout as it is when printing."""
        progress(2)(StepReport(1, 1.0, 0.5, 0.1))
        assert capsys.readouterr().out == "step 1/2  loss 1.0000  accuracy  50.0%  lr 0.1000\n"
