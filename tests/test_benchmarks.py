"""The benchmark suite at tiny sizes, so it cannot rot: every workload runs, numbers are consistent.

Only code paths are checked here, never timings (those are ``nox -s bench``'s
business, and a shared machine makes any timing assertion flaky). PyTorch's
engines are exercised when torch is installed; Karpathy's engine needs a
virtualenv of its own, which only ``nox -s bench`` builds.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from typing import Any

import pytest
from benchmarks import run, worker

from micrograd import Value
from tests.test_moons import GOLDEN

HAVE_TORCH = importlib.util.find_spec("torch") is not None


def _count_nodes(root: Value) -> tuple[int, int]:
    """The interior nodes and the leaves ``root`` depends on."""
    seen = {root}
    stack = [root]
    while stack:
        for child in stack.pop().children:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    leaves = sum(1 for v in seen if not v.children)
    return len(seen) - leaves, leaves


class TestOpGraph:
    """The op-throughput graph is what its plan says, at every size."""

    @pytest.mark.parametrize("nodes", [1, 50, 1_000])
    def test_plan_counts_the_nodes_built(self, nodes: int) -> None:
        """plan.nodes is the number of add/mul/tanh nodes the graph has, and every one is used."""
        plan = worker.op_plan(nodes)
        root = worker.build_op_graph(plan, [Value(x) for x in plan.leaves])
        assert _count_nodes(root) == (plan.nodes, len(plan.leaves))
        assert abs(plan.nodes - nodes) <= 3 * worker.LAYERS + 1

    def test_plan_is_reproducible(self) -> None:
        """The same size gives the same graph, so every engine's process builds the same one."""
        assert worker.op_plan(500) == worker.op_plan(500)


class TestWorker:
    """Each workload runs on micrograd-ref and returns what the driver reads."""

    def test_moons_is_the_demo_configuration(self) -> None:
        """The moons workload's first losses are the pinned demo losses, bit for bit."""
        result = worker.run({"engine": "ref", "workload": "moons", **run.moons_job(3)})
        assert result["losses"][:3] == [GOLDEN[0], GOLDEN[1], GOLDEN[2]]
        assert len(result["forward"]) == len(result["backward"]) == len(result["update"]) == 3

    @pytest.mark.parametrize("collector", ["engine", "on"])
    def test_ops_checksum_does_not_depend_on_the_collector(self, collector: str) -> None:
        """Pausing the cyclic collector or not, the op graph gives the same checksum."""
        job = {"engine": "ref", "workload": "ops", "nodes": 300, "repeat": 2}
        result = worker.run({**job, "collector": collector})
        assert result["checksum"] == worker.run(job)["checksum"]
        assert len(result["build"]) == 2

    def test_chain_reports_every_depth(self) -> None:
        """A depth-first engine survives every depth; the times are there for each."""
        result = worker.run({"engine": "ref", "workload": "chain", "depths": [10, 100]})
        assert result["deepest"] == 100
        assert result["failed"] is None
        assert set(result["times"]) == {"10", "100"}

    def test_chain_bisects_to_the_deepest_that_survives(self) -> None:
        """With a failing depth, the deepest survivor is found by bisection between the two."""
        s = worker.scalars("ref")

        def shallow(x: float) -> Any:
            return _Recursive(s.leaf(x))

        limited = s._replace(leaf=shallow)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(worker, "scalars", lambda *_: limited)
            result = worker.run({"engine": "ref", "workload": "chain", "depths": [10, 100]})
        assert result == {"times": result["times"], "deepest": 37, "failed": 100}

    @pytest.mark.parametrize("method", ["tracemalloc", "rss"])
    def test_memory_counts_bytes_per_node(self, method: str) -> None:
        """Both methods give a positive number of bytes per node, leaves included."""
        result = worker.run(
            {"engine": "ref", "workload": "memory", "nodes": 2_000, "method": method}
        )
        plan = worker.op_plan(2_000)
        assert result["nodes"] == plan.nodes + len(plan.leaves)
        assert result["bytes_per_node"] > 0 or method == "rss"  # RSS may not grow for so few

    def test_versions_name_the_package(self) -> None:
        """The versions probe names micrograd-ref and the interpreter."""
        result = worker.run({"engine": "ref", "workload": "versions"})
        assert result["package"] == "micrograd-ref"
        assert result["python"] == sys.version.split()[0]

    def test_unknown_engine_is_refused(self) -> None:
        """An engine name outside ENGINES raises ValueError naming the known ones."""
        with pytest.raises(ValueError, match="unknown engine 'tinygrad'"):
            worker.run({"engine": "tinygrad", "workload": "ops"})

    def test_karpathy_engine_refuses_to_run_on_ours(self) -> None:
        """Where ``micrograd`` is this project, the karpathy engine says so instead of lying."""
        with pytest.raises(RuntimeError, match="not Karpathy's"):
            worker.scalars("karpathy")

    def test_batched_torch_has_no_scalar_graph(self) -> None:
        """Asking for torch-batched scalars is an error, not a silent fallback."""
        with pytest.raises(ValueError, match="no scalar graph"):
            worker.scalars("torch-batched")


class _Recursive:
    """A scalar whose backward() recurses once per node: a stand-in for a recursive engine."""

    def __init__(self, v: Value, depth: int = 0) -> None:
        self.v, self.depth = v, depth

    def __mul__(self, k: float) -> _Recursive:
        return _Recursive(self.v * k, self.depth + 1)

    def __add__(self, k: float) -> _Recursive:
        return _Recursive(self.v + k, self.depth)

    def backward(self) -> None:
        if self.depth > 37:
            raise RecursionError("maximum recursion depth exceeded")
        self.v.backward()

    @property
    def grad(self) -> float:
        return 1.0


@pytest.mark.torch
@pytest.mark.skipif(not HAVE_TORCH, reason="torch is not installed")
class TestTorchEngines:
    """PyTorch, scalar and batched, computes the same numbers as micrograd-ref."""

    @pytest.mark.parametrize("engine", ["torch-scalar", "torch-batched"])
    def test_moons_losses_agree_with_ref(self, engine: str) -> None:
        """Two moons steps give micrograd-ref's losses to 1e-12 relative."""
        job = {"workload": "moons", **run.moons_job(2)}
        ours = worker.run({"engine": "ref", **job})["losses"]
        theirs = worker.run({"engine": engine, **job})["losses"]
        assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(ours, theirs, strict=True))

    @pytest.mark.parametrize("engine", ["torch-scalar", "torch-batched"])
    def test_ops_checksum_agrees_with_ref(self, engine: str) -> None:
        """The op graph's root and leaf gradients agree with micrograd-ref's to 1e-9 relative."""
        job = {"workload": "ops", "nodes": 300, "repeat": 1}
        results = [worker.run({"engine": e, **job}) for e in ("ref", engine)]
        assert run.checksums_agree(results)

    def test_scalar_torch_runs_chain_and_memory(self) -> None:
        """The deep chain and the RSS measure run on 0-dim tensors."""
        chain = worker.run({"engine": "torch-scalar", "workload": "chain", "depths": [10]})
        assert chain["deepest"] == 10
        memory = worker.run(
            {"engine": "torch-scalar", "workload": "memory", "nodes": 500, "method": "rss"}
        )
        assert memory["nodes"] > 500


class TestDriver:
    """The driver runs each engine in its own process and writes every section of the table."""

    def test_smoke_report_has_every_section(self, tmp_path: Path) -> None:
        """A smoke run of micrograd-ref, collector paused and on, writes all five tables."""
        lines: list[str] = []
        runner = run.Runner({"ref": sys.executable, "ref-gc": sys.executable}, log=lines.append)
        text = run.report(runner, run.SMOKE)
        for title in (
            "1. Moons training",
            "2. Op throughput",
            "3. Scaling",
            "4. Deep",
            "5. Memory",
        ):
            assert f"## {title}" in text
        assert "Final losses (after the first round's last step) agree" in text
        assert "Checksums agree" in text
        assert "| micrograd-ref, collector on |" in text
        assert "## Performance targets" in text
        assert "issue" not in text.lower()  # the page is for users, not the tracker
        assert runner.jobs_run == sum(1 for line in lines if line.endswith(" s"))

    def test_a_failing_worker_is_reported_with_its_error(self) -> None:
        """A worker that fails raises RuntimeError carrying the worker's standard error."""
        runner = run.Runner({"ref": sys.executable}, log=lambda _: None)
        with pytest.raises(RuntimeError, match=r"ref moons failed:(.|\n)*KeyError"):
            runner("ref", "moons")

    def test_ratios_are_pairwise_medians_against_karpathy(self) -> None:
        """Each round's baseline/engine ratio is taken, then their median reported."""
        rounds = [
            {"karpathy": {"t": 10.0}, "ref": {"t": 1.0}},
            {"karpathy": {"t": 30.0}, "ref": {"t": 1.0}},
            {"karpathy": {"t": 40.0}, "ref": {"t": 2.0}},
        ]
        assert run.pairwise(rounds, "ref", lambda r: float(r["t"])) == 20.0
        assert run.pairwise([{"ref": {"t": 1.0}}], "ref", lambda r: float(r["t"])) is None

    def test_sections_render_against_a_baseline(self) -> None:
        """With a Karpathy column, the tables show × ratios and the loss agreement."""
        moons = {"forward": [0.2], "backward": [0.1], "update": [0.0], "losses": [0.5]}
        fast = {"forward": [0.002], "backward": [0.001], "update": [0.0], "losses": [0.5]}
        rounds = [{"karpathy": moons, "ref": fast}]
        text = "\n".join(run.moons_section(rounds, ["ref", "karpathy"]))
        assert "100.0×" in text
        memory = {
            "karpathy": {"rss": {"bytes_per_node": 700.0}},
            "ref": {"rss": {"bytes_per_node": 140.0}},
        }
        assert "5.0×" in "\n".join(run.memory_section(memory))
        assert run.checksums_agree([{"checksum": [1.0, 2.0]}, {"checksum": [1.0, 2.0 + 1e-12]}])
        assert not run.checksums_agree([{"checksum": [1.0, 2.0]}, {"checksum": [1.0, 2.1]}])

    def test_engines_at_hand_include_karpathy_only_when_given(self) -> None:
        """Karpathy's engine is measured only with its interpreter; torch's only if it imports."""
        assert "karpathy" not in run.engines_at_hand(None, sys.executable)
        pythons = run.engines_at_hand("/venv/bin/python", sys.executable)
        assert pythons["karpathy"] == "/venv/bin/python"
        assert ("torch-scalar" in pythons) == HAVE_TORCH
