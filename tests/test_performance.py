"""What the engine does for speed changes no behaviour: ``gc_paused()``, marks kept on nodes."""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import pytest

from micrograd import Value
from micrograd.engine import gc_paused
from micrograd.nn import MLP
from micrograd.train import StepReport, train


@pytest.fixture
def collector_enabled() -> Iterator[None]:
    """Each test starts with the collector on, and leaves it as it found it."""
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:  # pragma: no cover - pytest runs with the collector on
        gc.disable()


@pytest.mark.usefixtures("collector_enabled")
class TestGcPaused:
    """The collector is off inside the block and as it was after it, whatever happens."""

    def test_paused_inside_and_restarted_after(self) -> None:
        """Inside the block the collector is off; after it, on again."""
        with gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled()

    def test_restarted_when_the_block_raises(self) -> None:
        """An exception in the block still restarts the collector, and propagates."""
        with pytest.raises(ZeroDivisionError), gc_paused():
            _ = 1 / 0
        assert gc.isenabled()

    def test_blocks_nest(self) -> None:
        """An inner block leaves the collector paused for the rest of the outer one."""
        with gc_paused():
            with gc_paused():
                pass
            assert not gc.isenabled()
        assert gc.isenabled()

    def test_a_collector_turned_off_by_the_user_stays_off(self) -> None:
        """If the collector was off before the block, it is still off after it."""
        gc.disable()
        with gc_paused():
            pass
        assert not gc.isenabled()

    def test_gradients_are_the_same_with_and_without(self) -> None:
        """Pausing the collector changes no number: it only decides when cycles are looked for."""

        def run() -> tuple[float, float]:
            a = Value(0.3)
            y = (a * a + a).tanh()
            y.backward()
            return y.data, a.grad

        with gc_paused():
            paused = run()
        assert paused == run()


@pytest.mark.usefixtures("collector_enabled")
class TestTrainingLoop:
    """train() pauses the collector for each step's graph only, never for the caller's code."""

    def test_steps_run_paused_and_callbacks_run_as_before(self) -> None:
        """The model is called with the collector paused; on_step, and the caller, see it on."""
        model = MLP(2, [3, 1], seed=0)
        seen_in_model: list[bool] = []
        seen_in_callback: list[bool] = []

        def scored(x: Sequence[float]) -> Value:
            seen_in_model.append(gc.isenabled())
            return model(x)

        def on_step(_: StepReport) -> None:
            seen_in_callback.append(gc.isenabled())

        wrapped = _Model(scored, model.parameters)
        train(wrapped, [(0.0, 1.0), (1.0, 0.0)], [1.0, -1.0], steps=2, on_step=on_step)
        assert seen_in_model == [False] * 4
        assert seen_in_callback == [True, True]
        assert gc.isenabled()


class _Model:
    """A model made of a scoring function and a parameter list, for watching train() call it."""

    def __init__(
        self, score: Callable[[Sequence[float]], Value], parameters: Callable[[], list[Value]]
    ) -> None:
        self.score, self.parameters = score, parameters

    def __call__(self, x: Sequence[float], /) -> Value:
        return self.score(x)


class TestNoCycles:
    """Reference counting alone frees a graph: that is what makes pausing the collector safe."""

    def test_a_used_graph_leaves_no_cyclic_garbage(self) -> None:
        """After a graph is built, backpropagated and dropped, the collector finds nothing."""
        gc.collect()
        with gc_paused():
            leaves = [Value(float(i)) for i in range(50)]
            total = Value.sum([Value.dot(leaves, leaves[::-1], 1.0).relu(), *leaves])
            (total * total).log().backward()
            del total, leaves
            found = gc.collect()
        assert found == 0

    def test_importing_micrograd_leaves_the_collector_alone(self) -> None:
        """Importing the package changes neither the collector's state nor its thresholds."""
        code = (
            "import gc; before = (gc.isenabled(), gc.get_threshold()); "
            "import micrograd, micrograd.train, micrograd.nn; "
            "print(before == (gc.isenabled(), gc.get_threshold()))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "True"


class _Interrupting(float):
    """A local derivative whose product raises, as a Ctrl-C in the middle of backward() would."""

    def __mul__(self, other: object) -> float:
        raise KeyboardInterrupt


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise TimeoutError in the block after ``seconds``, so that a runaway walk fails the test."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)


class TestInterruptedBackward:
    """backward() keeps its bookkeeping on the nodes; an interruption must not leave it stale."""

    @pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs POSIX interval timers")
    def test_cleanup_visits_each_shared_node_once(self) -> None:
        """Interrupted on a 40-level ``y = y + y`` (2**40 paths), cleanup is linear and exact."""
        x = Value(1.0)
        nodes = [x]
        for _ in range(40):
            nodes.append(nodes[-1] + nodes[-1])
        y = nodes[-1]
        real = y._da
        y._da = _Interrupting(real)
        with _deadline(5.0), pytest.raises(KeyboardInterrupt):
            y.backward()
        y._da = real
        assert [node._mark for node in nodes] == [0] * 41
        assert x.grad == 0.0
        y.backward()
        assert x.grad == 2.0**40

    def test_a_graph_backpropagates_correctly_after_an_interrupted_backward(self) -> None:
        """An interrupted backward() restores the leaves' grads; the next call is right."""
        a, b = Value(2.0), Value(-3.0)
        c = a * b
        d = c + c
        e = (d * a).tanh() + d
        real = e._da  # d(e)/d(its first input)
        e._da = _Interrupting(real)
        a.grad, b.grad = 5.0, -1.0
        with pytest.raises(KeyboardInterrupt):
            e.backward()
        e._da = real
        assert [node._mark for node in (a, b, c, d, e)] == [0] * 5  # no mark left behind
        assert (a.grad, b.grad) == (5.0, -1.0)  # leaves as they were before the call
        a.grad = b.grad = 0.0
        e.backward()

        a2, b2 = Value(2.0), Value(-3.0)
        c2 = a2 * b2
        d2 = c2 + c2
        e2 = (d2 * a2).tanh() + d2
        e2.backward()
        assert (a.grad, b.grad, c.grad, d.grad) == (a2.grad, b2.grad, c2.grad, d2.grad)
