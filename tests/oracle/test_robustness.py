"""Awkward engines and awkward timing: the grader still ends with a fair verdict."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from micrograd.oracle import compare, report, suite
from micrograd.oracle.checks import Check, check_named, reused
from micrograd.oracle.runner import Worker, WorkerTimeout, parse_target
from micrograd.oracle.suite import run_check, run_suite
from tests.oracle.helpers import ENGINES, FAST, engine, engine_file
from tests.oracle.planted import edited

CLOSURES = (ENGINES / "correct_closures.py").read_text()


def _variant(tmp_path: Path, name: str, old: str, new: str, *, head: str = "") -> str:
    """``correct_closures.py`` with ``old`` replaced by ``new`` (and ``head`` prepended)."""
    path = tmp_path / f"{name}.py"
    path.write_text(head + edited(CLOSURES, [(old, new)], name))
    return str(path)


class TestFairness:
    """A student is never failed where the reference itself is unsure."""

    def test_disagreeing_at_a_kink_is_not_graded(self, tmp_path: Path) -> None:
        """A relu'(0) of 1 differs from the reference's 0, but at a kink; the case is not graded."""
        target = _variant(
            tmp_path, "relu_ge", "(out.data > 0) * out.grad", "(self.data >= 0) * out.grad"
        )
        at_zero = {"leaves": [0.0], "ops": [["un", "relu", 0]], "root_grad": False}
        check = Check(
            "relu_at_zero",
            "a.relu() at 0",
            "op",
            "relu",
            {"leaves": [2.0], "ops": [["un", "relu", 0]], "root_grad": False},
            lambda _: st.just(at_zero),
        )
        with Worker(parse_target(target)) as worker:
            result = run_check(check, worker, replace(FAST, max_examples=3), [])
        assert result.status == "passed"
        assert "not graded: the witnesses disagreed" in result.message


class TestTiming:
    """Time limits hold inside every phase of a check."""

    def test_a_budget_already_spent_is_a_timeout(self) -> None:
        """With no time left even the probe is not sent; the check times out at once."""
        suite = run_suite(
            parse_target(engine("correct_closures")),
            replace(FAST, timeout=1e-9, only=frozenset({"add"})),
        )
        (result,) = suite.checks
        assert (result.status, result.message) == ("timeout", "ran out of its 1e-09 s")

    def test_the_graders_own_time_is_not_the_engines(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Slow witnesses (PyTorch's first import takes seconds) do not time a check out.

        Each disagreement is confirmed by the witnesses before it counts; here
        the first confirmation takes longer than the whole 1 s budget of the
        check and finds the witnesses disagreeing, so the check goes on to
        later batches, which must still have their time.
        """
        calls: list[int] = []
        real = compare.witnesses_agree

        def witnesses(*args: Any, **kwargs: Any) -> bool:
            calls.append(1)
            if len(calls) == 1:
                time.sleep(1.5)
                return False  # not graded: the check draws on
            return real(*args, **kwargs)

        monkeypatch.setattr(suite, "witnesses_agree", witnesses)
        options = replace(FAST, timeout=1.0, max_examples=100, only=frozenset({"tanh"}))
        (result,) = run_suite(parse_target(engine("bug_tanh_rule")), options).checks
        assert result.status == "failed"
        assert len(calls) > 1

    def test_a_hang_while_shrinking_keeps_the_failure_found(self, tmp_path: Path) -> None:
        """A tanh wrong above 1 that hangs after 80 calls: the failure found first stands."""
        target = _variant(
            tmp_path,
            "tanh_hangs",
            "        t = math.tanh(self.data)\n",
            "        Value.calls = getattr(Value, 'calls', 0) + 1\n"
            "        while Value.calls > 80:\n            pass\n"
            "        t = math.tanh(self.data) + (self.data > 1)\n",
        )
        options = replace(FAST, timeout=2.0, only=frozenset({"tanh"}))
        (result,) = run_suite(parse_target(target), options).checks
        assert result.status == "failed"
        assert result.program is not None
        assert result.program["leaves"][0] > 1

    def test_a_hang_inside_a_batch_is_narrowed_to_its_case(self, tmp_path: Path) -> None:
        """exp() hangs below 0 only: the probe passes, a batch hangs, halving finds a case."""
        target = _variant(
            tmp_path,
            "exp_hangs",
            "        out = Value(math.exp(self.data), (self,), 'exp')\n",
            "        while self.data < 0:\n            pass\n"
            "        out = Value(math.exp(self.data), (self,), 'exp')\n",
        )
        options = replace(FAST, timeout=1.0, only=frozenset({"exp"}))
        (result,) = run_suite(parse_target(target), options).checks
        assert result.status == "timeout"
        assert result.message.endswith(" s (an infinite loop?)")  # no "in a batch of" note
        assert result.program is not None
        assert result.program["leaves"][0] < 0

    def test_narrowing_down_gives_up_in_time(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With no time to narrow a hanging batch down, the message says whose case is shown."""
        monkeypatch.setattr(suite, "_ISOLATE_SECONDS", 0.0)
        target = _variant(
            tmp_path,
            "exp_hangs",
            "        out = Value(math.exp(self.data), (self,), 'exp')\n",
            "        while self.data < 0:\n            pass\n"
            "        out = Value(math.exp(self.data), (self,), 'exp')\n",
        )
        options = replace(FAST, timeout=1.0, only=frozenset({"exp"}))
        (result,) = run_suite(parse_target(target), options).checks
        assert result.message.endswith("; in a batch of 33 cases, the reproducer is the first")

    def test_a_hang_that_depends_on_history_says_so(self, tmp_path: Path) -> None:
        """exp() hangs from its 10th call on: no single case hangs alone; the message says so."""
        target = _variant(
            tmp_path,
            "exp_tires",
            "        out = Value(math.exp(self.data), (self,), 'exp')\n",
            "        Value.calls = getattr(Value, 'calls', 0) + 1\n"
            "        while Value.calls > 10:\n            pass\n"
            "        out = Value(math.exp(self.data), (self,), 'exp')\n",
        )
        options = replace(FAST, timeout=1.0, only=frozenset({"exp"}))
        (result,) = run_suite(parse_target(target), options).checks
        assert result.status == "timeout"
        assert result.message.endswith("; in a batch of 33 cases, the reproducer is the first")


class TestRestarts:
    """After a crash the engine is loaded again; if that fails, the rest are errors."""

    def test_an_engine_that_loads_only_once(self, tmp_path: Path) -> None:
        """tanh() kills the process, and a second import fails: the later checks err."""
        head = (
            "import pathlib\n"
            "_marker = pathlib.Path(__file__).with_suffix('.loaded')\n"
            "if _marker.exists():\n    raise RuntimeError('imported twice')\n"
            "_marker.write_text('')\n"
        )
        target = _variant(
            tmp_path,
            "once",
            "        t = math.tanh(self.data)\n",
            "        import os; os._exit(1)\n",
            head=head,
        )
        options = replace(FAST, only=frozenset({"exp", "tanh", "relu"}))
        suite = run_suite(parse_target(target), options)
        statuses = {c.name: c.status for c in suite.checks}
        assert statuses == {"exp": "passed", "tanh": "error", "relu": "error"}
        (relu,) = [c for c in suite.checks if c.name == "relu"]
        assert relu.message.startswith("restarting the engine failed: ")
        assert "imported twice" in relu.message
        assert report.reproducer(suite, relu) is None


class TestRestartsWhileNarrowing:
    """A restart that fails while narrowing a crash down leaves the batch note."""

    def test_an_engine_that_loads_once_and_crashes_in_a_batch(self, tmp_path: Path) -> None:
        """exp() of a negative number kills the process, and a second import fails."""
        head = (
            "import pathlib\n"
            "_marker = pathlib.Path(__file__).with_suffix('.loaded')\n"
            "if _marker.exists():\n    raise RuntimeError('imported twice')\n"
            "_marker.write_text('')\n"
        )
        target = _variant(
            tmp_path,
            "once_exp",
            "        out = Value(math.exp(self.data), (self,), 'exp')\n",
            "        if self.data < 0:\n            import os; os._exit(1)\n"
            "        out = Value(math.exp(self.data), (self,), 'exp')\n",
            head=head,
        )
        (result,) = run_suite(parse_target(target), replace(FAST, only=frozenset({"exp"}))).checks
        assert result.status == "error"
        assert result.message.endswith("; in a batch of 33 cases, the reproducer is the first")


def _nn_variant(tmp_path: Path, old: str, new: str) -> str:
    source = (ENGINES / "nn_lecture.py").read_text()
    assert old in source
    (tmp_path / "correct_closures.py").write_text(CLOSURES)
    path = tmp_path / "nn.py"
    path.write_text(source.replace(old, new))
    return str(path)


def _nn_suite(engine_target: str, nn: str, timeout: float = 5.0) -> list[tuple[str, str]]:
    target = replace(parse_target(engine_target), nn=parse_target(nn, default_class="MLP"))
    options = replace(FAST, timeout=timeout, only=frozenset({"nn_mlp"}))
    return [(c.status, c.message) for c in run_suite(target, options).checks]


class TestNeuralNetworkEdges:
    """--nn copes with list outputs, wrong gradients, hangs and crashes."""

    def test_a_layer_returning_a_list_is_unwrapped(self, tmp_path: Path) -> None:
        """A one-output MLP that returns [out] is read as out."""
        nn = _nn_variant(tmp_path, "return outs[0] if len(outs) == 1 else outs", "return outs")
        assert _nn_suite(engine("correct_closures"), nn)[0][0] == "passed"

    def test_right_outputs_with_wrong_gradients_fail(self, tmp_path: Path) -> None:
        """An MLP on an engine whose mul forgets out.grad has the right outputs only."""
        nn = _nn_variant(tmp_path, "from correct_closures import", "from bug_no_upstream import")
        (tmp_path / "bug_no_upstream.py").write_text(engine_file("bug_no_upstream").read_text())
        ((status, message),) = _nn_suite(f"{tmp_path / 'bug_no_upstream.py'}:Value", nn)
        assert status == "failed"
        assert (
            message
            == "MLP(2, [3, 1]) parameter gradients differ (assumed hidden tanh, output tanh)"
        )

    def test_a_hanging_mlp_times_out(self, tmp_path: Path) -> None:
        """An MLP whose constructor never returns is a timeout."""
        nn = _nn_variant(
            tmp_path, "        sz = [nin] + nouts\n", "        while True:\n            pass\n"
        )
        assert _nn_suite(engine("correct_closures"), nn, timeout=0.5) == [
            ("timeout", "no answer within 0.5 s")
        ]

    def test_a_crashing_mlp_is_an_error(self, tmp_path: Path) -> None:
        """An MLP that kills the process is an error naming the exit status."""
        nn = _nn_variant(
            tmp_path, "        sz = [nin] + nouts\n", "        import os; os._exit(5)\n"
        )
        ((status, message),) = _nn_suite(engine("correct_closures"), nn)
        assert status == "error"
        assert "exited with status 5" in message


class TestShrinking:
    """Shrinking stops in time and keeps what it found; plainer cases keep the failure."""

    def test_a_shrink_out_of_time_keeps_the_first_failure(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With no time to shrink, the failure found while drawing is the reproducer."""
        monkeypatch.setattr(suite, "_SHRINK_SECONDS", -1.0)
        options = replace(FAST, only=frozenset({"exp"}))
        (result,) = run_suite(parse_target(engine("bug_exp_assign")), options).checks
        assert result.status == "failed"
        probe = check_named("exp").probe
        assert probe is not None
        assert result.program == reused(probe, 1, "+-*")  # the first reuse case, unshrunk

    def test_an_engine_that_hangs_while_shrinking_stops_it(self) -> None:
        """One hang or crash of the engine and every later shrinking step answers at once."""
        grader = suite._Grader(check_named("exp"), _Worker(None), FAST)  # type: ignore[arg-type]  # a stand-in
        like = suite.CheckResult("exp", "a.exp()", "failed", "")
        program = {"leaves": [1.0], "ops": [["un", "exp", 0]]}
        assert grader._fails_alike(program, like, float("inf")) is None
        assert grader.broke

    def test_unused_leaves_are_dropped_and_registers_renumbered(self) -> None:
        """A leaf no op reads goes; every kind of instruction reads the renumbered registers."""
        program = {
            "leaves": [1.5, 9.0, 2.25],
            "ops": [
                ["rnum", "-", 3, 2],
                ["un", "tanh", 3],
                ["lnum", "*", 4, 2],
                ["bin", "+", 5, 0],
            ],
        }
        (dropped, *rounded) = suite._plainer_programs(program)
        assert dropped["leaves"] == [1.5, 2.25]
        assert dropped["ops"] == [
            ["rnum", "-", 3, 1],
            ["un", "tanh", 2],
            ["lnum", "*", 3, 2],
            ["bin", "+", 4, 0],
        ]
        assert [p["leaves"] for p in rounded] == [[2.0, 2.25], [1.5, 2.0]]

    def test_round_leaves_are_left_as_they_are(self) -> None:
        """A program with nothing to drop or round has no plainer form."""
        assert list(suite._plainer_programs({"leaves": [2.0], "ops": [["un", "exp", 0]]})) == []


class _Worker:
    """A stand-in for the child: chains fail past ``limit`` nodes, or every request hangs."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit

    def request(
        self, programs: list[dict[str, object]], timeout: float
    ) -> tuple[list[object], str]:
        if self.limit is None:
            raise WorkerTimeout("no answer")
        (program,) = programs
        ops = program["ops"]
        assert isinstance(ops, list)
        deep = len(ops) > self.limit
        return [{"error": "RecursionError: maximum depth"} if deep else {"data": []}], ""


class TestRecursionDepth:
    """A RecursionError in a long chain is told with the depth where it starts."""

    def test_the_depth_is_found_by_halving(self) -> None:
        """Chains fail past 1,000 nodes: the message says about 1,000."""
        message = suite._recursion_depth(_Worker(1000), FAST)  # type: ignore[arg-type]  # a stand-in
        assert message is not None
        depth = int(message.split("about ")[1].split(" ")[0])
        assert 950 <= depth <= 1000

    def test_an_engine_that_stops_answering_gets_no_depth(self) -> None:
        """When halving hangs, the original message stands."""
        assert suite._recursion_depth(_Worker(None), FAST) is None  # type: ignore[arg-type]  # a stand-in


class TestRootCauses:
    """Each kind of root cause is named with what the student should look at."""

    def test_backward_that_only_seeds_the_root(self, tmp_path: Path) -> None:
        """The root gets 1 but nothing propagates: backward() changed no gradient."""
        path = tmp_path / "engine.py"
        path.write_text(CLOSURES.replace("            v._backward()\n", "            pass\n"))
        found = run_suite(parse_target(str(path)), FAST)
        assert found.cause is not None
        assert found.cause.message.startswith("backward() changed no gradient")
        assert {c.status for c in found.checks} == {"not_graded"}

    def test_backward_that_always_raises(self, tmp_path: Path) -> None:
        """The same exception in every backward() is one root cause that names it."""
        path = tmp_path / "engine.py"
        path.write_text(
            CLOSURES.replace("        topo = []\n", "        raise RuntimeError('todo')\n")
        )
        found = run_suite(parse_target(str(path)), FAST)
        assert found.cause is not None
        assert found.cause.message.startswith("backward() raises RuntimeError on every graph")
