"""The benchmark driver: runs every engine in its own process, round by round, and writes the table.

``python -m benchmarks.run --karpathy-python VENV/bin/python`` measures
micrograd-ref against Karpathy's ``micrograd==0.1.0`` (run by the
interpreter of its own virtualenv) and against PyTorch (scalar tensors and
batched, when ``torch`` imports here), then writes Markdown (``--output``,
``docs/benchmarks.md`` by default). ``nox -s bench`` does all of it.

Every workload runs in rounds; each round starts one process per engine, in
an order rotated from round to round, so slow and fast moments of a shared
machine fall on every engine alike. Ratios against Karpathy's engine are
taken pairwise, within each round, and their median is reported.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from micrograd.data import make_moons
from micrograd.nn import MLP

WORKER = Path(__file__).with_name("worker.py")
"""The script each engine's process runs."""

BASELINE = "karpathy"
"""The engine every ratio is taken against."""

NAMES = {
    "ref": "micrograd-ref",
    "ref-gc": "micrograd-ref, collector on",
    "karpathy": "Karpathy micrograd 0.1.0",
    "torch-scalar": "PyTorch, 0-dim tensors",
    "torch-batched": "PyTorch, batched",
}
"""How the table names each engine."""

Result = dict[str, Any]


@dataclass(frozen=True)
class Sizes:
    """How big and how many: the full run's defaults, or a smoke run's tiny ones."""

    rounds: int = 3
    """Rounds of the op-throughput workload (each round: one process per engine)."""
    moons_rounds: int = 3
    """Rounds of the moons workload."""
    moons_steps: int = 100
    """SGD steps of the first moons round, whose final losses are compared."""
    moons_steps_after: int = 20
    """SGD steps of the later moons rounds, there for the timings only."""
    op_nodes: int = 200_000
    """Nodes of the op-throughput graph."""
    op_repeat: int = 3
    """Builds and backwards per op-throughput process."""
    scaling: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    """Graph sizes of the scaling workload."""
    scaling_total: int = 1_000_000
    """Nodes built in all at each scaling size: a small graph is built many times, for a
    median that one slow build cannot move."""
    depths: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000)
    """Depths of the deep-chain workload."""
    memory_nodes: int = 1_000_000
    """Nodes of the memory workload's graph."""


SMOKE = Sizes(
    rounds=2,
    moons_rounds=2,
    moons_steps=2,
    moons_steps_after=1,
    op_nodes=400,
    op_repeat=1,
    scaling=(100, 1_000),
    scaling_total=1_000,
    depths=(10, 100),
    memory_nodes=1_000,
)
"""Tiny sizes: a run of every code path in seconds, for the test suite."""


@dataclass
class Runner:
    """Starts one worker process per job, with each engine's interpreter."""

    pythons: dict[str, str]
    """The interpreter of each engine to measure."""
    log: Callable[[str], None] = print
    """Where progress lines go."""
    jobs_run: int = field(default=0, init=False)
    """How many worker processes have run."""

    @property
    def engines(self) -> list[str]:
        """The engines measured, in the default order."""
        return list(self.pythons)

    def __call__(self, engine: str, workload: str, **params: object) -> Result:
        """Run one job in a fresh process of ``engine``'s interpreter and return its result."""
        job = {"engine": "ref" if engine == "ref-gc" else engine, "workload": workload, **params}
        if engine == "ref-gc":
            job["collector"] = "on"
        started = time.perf_counter()
        done = subprocess.run(
            [self.pythons[engine], str(WORKER)],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            check=False,
            cwd=WORKER.parent,  # so that no ./micrograd shadows the engine's own
        )
        if done.returncode != 0:
            raise RuntimeError(f"{engine} {workload} failed:\n{done.stderr}")
        self.jobs_run += 1
        self.log(f"  {workload:<8} {engine:<14} {time.perf_counter() - started:6.1f} s")
        result: Result = json.loads(done.stdout)
        return result

    def rounds(
        self, n: int, workload: str, *, first: int = 0, **params: object
    ) -> list[dict[str, Result]]:
        """``n`` rounds of ``workload``, every engine once per round, order rotated each round.

        Round ``r`` starts with engine ``first + r`` (modulo their number).
        """
        out = []
        for r in range(first, first + n):
            k = r % len(self.engines)
            order = self.engines[k:] + self.engines[:k]
            out.append({engine: self(engine, workload, **params) for engine in order})
        return out


RERUN = (
    "Measured by `nox -s bench` (about 10 minutes on 2 CPUs), which rewrites this page; "
    "`nox -s bench -- --smoke --output smoke.md` runs every workload at tiny sizes "
    "without touching it. Ratios are taken pairwise "
    "within each round, so they hold up better than the absolute times on a shared machine."
)
"""How to reproduce the page, written at its top."""


def median(xs: Sequence[float]) -> float:
    """The median of ``xs``."""
    return float(statistics.median(xs))


def pairwise(
    rounds: Sequence[dict[str, Result]], engine: str, measure: Callable[[Result], float]
) -> float | None:
    """The median over rounds of baseline/engine for ``measure``: how many times faster."""
    ratios = [
        measure(r[BASELINE]) / measure(r[engine])
        for r in rounds
        if BASELINE in r and engine in r and measure(r[engine]) > 0.0
    ]
    return median(ratios) if ratios else None


def moons_job(steps: int) -> Result:
    """The moons workload's inputs, shared by every engine: data and initial parameters."""
    X, y = make_moons(100, 0.1, seed=0)
    init = [p.data for p in MLP(2, [16, 16, 1], seed=0).parameters()]
    return {"X": X, "y": y, "init": init, "steps": steps, "alpha": 1e-4}


# The report.


def _ms(seconds: float) -> str:
    return f"{1e3 * seconds:.3g}" if seconds < 1.0 else f"{1e3 * seconds:,.0f}"


def _ns(seconds: float) -> str:
    return f"{1e9 * seconds:,.0f}"


def _times(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:,.1f}×"


def step(r: Result) -> float:
    """A moons run's median seconds per step: forward, backward and update."""
    return median(
        [f + b + u for f, b, u in zip(r["forward"], r["backward"], r["update"], strict=True)]
    )


def total(r: Result) -> float:
    """An op-throughput run's seconds per node: median build plus median backward."""
    return (median(r["build"]) + median(r["backward"])) / int(r["nodes"])


def moons_section(rounds: Sequence[dict[str, Result]], engines: Sequence[str]) -> list[str]:
    """Median milliseconds per step, forward and backward, ratios, and the final losses."""
    first = rounds[0]
    reference = first["ref"]["losses"][-1] if "ref" in first else None
    lines = [
        "| engine | forward ms | backward ms | step ms | × Karpathy | × torch scalar"
        " | final loss | vs ref |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e in engines:
        runs = [r[e] for r in rounds]
        fwd = median([median(r["forward"]) for r in runs])
        bwd = median([median(r["backward"]) for r in runs])
        stp = median([step(r) for r in runs])
        vs_torch = [step(r["torch-scalar"]) / step(r[e]) for r in rounds if "torch-scalar" in r]
        loss = first[e]["losses"][-1]
        diff = "—" if reference is None else f"{abs(loss - reference) / abs(reference):.1e}"
        lines.append(
            f"| {NAMES[e]} | {_ms(fwd)} | {_ms(bwd)} | {_ms(stp)}"
            f" | {_times(pairwise(rounds, e, step))}"
            f" | {_times(median(vs_torch) if vs_torch else None)} | {loss!r} | {diff} |"
        )
    return lines


def ops_section(rounds: Sequence[dict[str, Result]], engines: Sequence[str]) -> list[str]:
    """Nanoseconds per node to build and to backpropagate, ratios, checksums."""

    def per_node(key: str) -> Callable[[Result], float]:
        return lambda r: median(r[key]) / int(r["nodes"])

    lines = [
        "| engine | build ns/node | backward ns/node | total ns/node | × Karpathy (total)"
        " | root value | Σ leaf grads |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e in engines:
        runs = [r[e] for r in rounds]
        b = median([per_node("build")(r) for r in runs])
        w = median([per_node("backward")(r) for r in runs])
        value, grads = runs[0]["checksum"]
        lines.append(
            f"| {NAMES[e]} | {_ns(b)} | {_ns(w)} | {_ns(b + w)}"
            f" | {_times(pairwise(rounds, e, total))} | {value!r} | {grads!r} |"
        )
    return lines


def checksums_agree(results: Sequence[Result], rtol: float = 1e-9) -> bool:
    """Whether every result's checksum equals the first's within ``rtol``."""
    first = results[0]["checksum"]
    return all(
        math.isclose(a, b, rel_tol=rtol)
        for r in results
        for a, b in zip(r["checksum"], first, strict=True)
    )


def scaling_section(by_size: dict[int, dict[str, Result]], engines: Sequence[str]) -> list[str]:
    """Total ns/node at each size and the ratio of the largest size's to the smallest's."""
    sizes = sorted(by_size)
    head = " | ".join(f"{n:,} nodes" for n in sizes)
    lines = [
        f"| engine | {head} | largest / smallest |",
        "| --- |" + " ---: |" * (len(sizes) + 1),
    ]
    for e in engines:
        per = [
            (median(by_size[n][e]["build"]) + median(by_size[n][e]["backward"]))
            / by_size[n][e]["nodes"]
            for n in sizes
        ]
        cells = " | ".join(_ns(p) for p in per)
        lines.append(f"| {NAMES[e]} | {cells} | {per[-1] / per[0]:.2f} |")
    return lines


def chain_section(results: dict[str, Result], depths: Sequence[int]) -> list[str]:
    """Backward seconds at each depth, and the deepest chain each engine survives."""
    head = " | ".join(f"{d:,}" for d in depths)
    lines = [
        f"| engine | deepest that backpropagates | backward s at depth {head} |",
        "| --- | ---: |" + " ---: |" * len(depths),
    ]
    for e, r in results.items():
        cells = " | ".join(
            f"{r['times'][str(d)][1]:.3g}" if str(d) in r["times"] else "fails" for d in depths
        )
        deepest = f"{r['deepest']:,}" + (" (all)" if r["failed"] is None else "")
        lines.append(f"| {NAMES[e]} | {deepest} | {cells} |")
    return lines


def memory_section(results: dict[str, dict[str, Result]]) -> list[str]:
    """Bytes per live node by tracemalloc and by RSS, and the ratio against Karpathy's."""
    lines = [
        "| engine | bytes/node (tracemalloc) | bytes/node (RSS) | × smaller than Karpathy (RSS) |",
        "| --- | ---: | ---: | ---: |",
    ]
    base = results.get(BASELINE, {}).get("rss")
    for e, r in results.items():
        traced = f"{r['tracemalloc']['bytes_per_node']:.0f}" if "tracemalloc" in r else "—"
        rss = r["rss"]["bytes_per_node"]
        ratio = None if base is None else base["bytes_per_node"] / rss
        lines.append(f"| {NAMES[e]} | {traced} | {rss:.0f} | {_times(ratio)} |")
    return lines


def targets(
    moons: Sequence[dict[str, Result]],
    ops: Sequence[dict[str, Result]],
    by_size: dict[int, dict[str, Result]],
    chains: dict[str, Result],
    memory: dict[str, dict[str, Result]],
) -> list[str]:
    """micrograd-ref's performance targets, each with the measured number and met or not."""
    vs_torch = [step(r["torch-scalar"]) / step(r["ref"]) for r in moons if "torch-scalar" in r]
    sizes = sorted(by_size)
    flat = total(by_size[sizes[-1]]["ref"]) / total(by_size[sizes[0]]["ref"])
    rows = [
        ("moons step ≥ 60× Karpathy's", pairwise(moons, "ref", step), 60.0),
        ("moons step ≥ 30× PyTorch scalar", median(vs_torch) if vs_torch else None, 30.0),
        ("op throughput ≥ 10× Karpathy's", pairwise(ops, "ref", total), 10.0),
    ]
    lines = ["| target | measured | met |", "| --- | ---: | :---: |"]
    for name, ratio, goal in rows:
        met = "—" if ratio is None else ("yes" if ratio >= goal else "**no**")
        lines.append(f"| {name} | {_times(ratio)} | {met} |")
    traced = memory["ref"]["tracemalloc"]["bytes_per_node"]
    deepest = chains["ref"]["deepest"]
    lines += [
        f"| ≤ 150 bytes per node (tracemalloc) | {traced:.0f} | {_yes(traced <= 150)} |",
        f"| a 10⁶-deep chain backpropagates | {deepest:,} | {_yes(deepest >= 1_000_000)} |",
        f"| ns/node at the largest size ≤ 1.5× the smallest | {flat:.2f}× | {_yes(flat <= 1.5)} |",
    ]
    return lines


def _yes(met: bool) -> str:
    return "yes" if met else "**no**"


def machine(runner: Runner) -> list[str]:
    """The machine, the interpreters and the engines' versions."""
    lines = [
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {platform.machine()}, {_cpu_name()}, {os.cpu_count()} CPUs"
        f" (load average at start {_load()}), {platform.platform()}",
    ]
    for e in runner.engines:
        v = runner(e, "versions")
        lines.append(f"- {NAMES[e]}: {v['package']} {v['version']}, Python {v['python']}")
    return lines


def _cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"  # pragma: no cover - not Linux


def _load() -> str:
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - no load average on this platform
        return "unknown"


def report(runner: Runner, sizes: Sizes) -> str:
    """Run every workload and return the Markdown report."""
    engines = runner.engines
    scalar = [e for e in engines if e != "torch-batched"]
    out = ["# Benchmarks", "", RERUN, "", *machine(runner), ""]

    runner.log("moons")
    moons = runner.rounds(1, "moons", **moons_job(sizes.moons_steps))
    later = moons_job(sizes.moons_steps_after)
    moons += runner.rounds(sizes.moons_rounds - 1, "moons", first=1, **later)
    runner.log("ops")
    ops = runner.rounds(sizes.rounds, "ops", nodes=sizes.op_nodes, repeat=sizes.op_repeat)
    runner.log("scaling")
    repeats = {n: max(1, sizes.scaling_total // n) for n in sizes.scaling}
    by_size = {n: runner.rounds(1, "ops", nodes=n, repeat=r)[0] for n, r in repeats.items()}
    runner.log("chain")
    chains = {e: runner(e, "chain", depths=list(sizes.depths)) for e in scalar}
    runner.log("memory")
    memory: dict[str, dict[str, Result]] = {}
    for e in scalar:
        methods = ["rss"] if e.startswith("torch") else ["tracemalloc", "rss"]
        memory[e] = {m: runner(e, "memory", nodes=sizes.memory_nodes, method=m) for m in methods}

    losses = [moons[0][e]["losses"][-1] for e in engines]
    loss_spread = (max(losses) - min(losses)) / abs(min(losses))
    out += [
        "## 1. Moons training",
        "",
        f"100 moons points (noise 0.1), MLP 2→16→16→1, max-margin loss + 1e-4·Σp², full batch,"
        f" {sizes.moons_steps} SGD steps with lr 1.0 − 0.9·k/100, every engine from the same"
        f" initial parameters. Medians over {sizes.moons_rounds} rounds of each run's median"
        f" step (the first run of {sizes.moons_steps} steps, the others of"
        f" {sizes.moons_steps_after}); ratios pairwise"
        " within each round. Final losses (after the first round's last step) agree to"
        f" {loss_spread:.1e} relative ({'agree' if loss_spread < 1e-9 else 'DISAGREE'}).",
        "",
        *moons_section(moons, engines),
        "",
        "## 2. Op throughput",
        "",
        f"A graph of {ops[0][engines[0]]['nodes']:,} add/mul/tanh nodes with reuse"
        f" (layers of tanh(a·b + c), then a tree of sums). Median of {sizes.rounds} rounds"
        f" × {sizes.op_repeat} builds. Checksums"
        f" {'agree' if checksums_agree([r[e] for r in ops for e in engines]) else 'DISAGREE'}"
        " across engines (relative 1e-9).",
        "",
        *ops_section(ops, engines),
        "",
        "## 3. Scaling",
        "",
        "Build + backward ns per node for the same graph shape at each size, the median"
        f" of {' / '.join(f'{r:,}' for r in repeats.values())} builds.",
        "",
        *scaling_section(by_size, engines),
        "",
        "## 4. Deep chain",
        "",
        "`x → x·1.0001 + 0.0001` repeated; each depth in turn until one fails, then the"
        " deepest that works by bisection.",
        "",
        *chain_section(chains, sizes.depths),
        "",
        "## 5. Memory",
        "",
        f"Bytes per live node (leaves included) with the op graph of {sizes.memory_nodes:,}"
        " nodes built; tracemalloc counts Python allocations (not PyTorch's), RSS is the"
        " process's resident memory; each in a fresh process.",
        "",
        *memory_section(memory),
        "",
        "## Performance targets",
        "",
        "The speed and size micrograd-ref is held to, against this run's numbers.",
        "",
        *targets(moons, ops, by_size, chains, memory),
        "",
    ]
    return "\n".join(out)


def engines_at_hand(karpathy_python: str | None, python: str) -> dict[str, str]:
    """The engines to measure and their interpreters: torch ones only if torch imports here."""
    pythons = {"ref": python, "ref-gc": python}
    if karpathy_python:
        # Absolute (workers run elsewhere), but not resolved: a venv's python is a symlink.
        pythons["karpathy"] = os.path.abspath(karpathy_python)
    if importlib.util.find_spec("torch") is not None:
        pythons["torch-scalar"] = python
        pythons["torch-batched"] = python
    return pythons


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments, run the benchmarks, write the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--karpathy-python", help="the interpreter of a venv with micrograd==0.1.0")
    parser.add_argument("--output", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check the code runs")
    args = parser.parse_args(argv)
    runner = Runner(engines_at_hand(args.karpathy_python, sys.executable))
    text = report(runner, SMOKE if args.smoke else Sizes())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
