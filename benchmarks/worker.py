"""One engine, one workload, one process: the measuring end of the benchmark suite.

``python benchmarks/worker.py`` reads a JSON job from standard input, runs it
and prints a JSON result. Each engine runs in a process of its own because
Karpathy's micrograd is imported as ``micrograd`` too; the driver
(``benchmarks/run.py``) starts the processes, rotates their order and
gathers the medians.

Engines:

- ``ref``: this project's engine, used as its training loop uses it.
- ``karpathy``: ``micrograd==0.1.0`` from PyPI. It has no ``tanh``, so the
  op workloads give it one written in its own closure style.
- ``torch-scalar``: PyTorch with every scalar a 0-dim float64 tensor, the
  same scalar graph, one thread.
- ``torch-batched``: PyTorch used normally, batched float64 tensors (the
  vectorised limit, shown for scale), one thread.

This file imports nothing from the benchmarks package, so that it runs as a
script under any of the engines' interpreters.
"""

from __future__ import annotations

import gc
import importlib
import itertools
import json
import math
import random
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, NamedTuple

ENGINES = ("ref", "karpathy", "torch-scalar", "torch-batched")
"""Every engine a worker can run, in the driver's default order."""

Result = dict[str, Any]
"""What a workload returns: JSON-ready numbers and lists."""


# The engines' scalars, seen the same way by the scalar workloads.


class Scalars(NamedTuple):
    """How a workload makes a leaf of an engine and reads numbers back."""

    leaf: Callable[[float], Any]
    """A new leaf holding the float, one that gets a gradient."""
    value: Callable[[Any], float]
    """A node's value as a float."""
    grad: Callable[[Any], float]
    """A node's gradient as a float (after ``backward()``)."""
    collection: Callable[[], Any]
    """A context manager for the engine's own choice about the cyclic garbage collector."""


def scalars(engine: str, collector: str = "engine") -> Scalars:
    """The scalar interface of ``engine`` (not ``torch-batched``, which has no scalar graph).

    ``collector="on"`` leaves Python's cyclic garbage collector running for
    ``ref`` too, instead of pausing it as its training loop does.
    """
    if engine == "ref":
        engine_module = importlib.import_module("micrograd.engine")
        value_type = engine_module.Value
        paused = engine_module.gc_paused if collector == "engine" else nullcontext
        return Scalars(value_type, _data, _grad, paused)
    if engine == "karpathy":
        value_type = _karpathy_value()
        return Scalars(value_type, _data, _grad, nullcontext)
    if engine == "torch-scalar":
        torch = _torch()

        def leaf(x: float) -> Any:
            return torch.tensor(x, dtype=torch.float64, requires_grad=True)

        return Scalars(leaf, _item, _tensor_grad, nullcontext)
    raise ValueError(f"no scalar graph for engine {engine!r}; expected one of {ENGINES[:3]}")


def _data(v: Any) -> float:
    return float(v.data)


def _grad(v: Any) -> float:
    return float(v.grad)


def _item(t: Any) -> float:
    return float(t.item())


def _tensor_grad(t: Any) -> float:
    return 0.0 if t.grad is None else float(t.grad.item())


def _karpathy_value() -> Any:
    """Karpathy's ``Value`` class, with a ``tanh`` in his closure style added if missing."""
    value_type: Any = importlib.import_module("micrograd.engine").Value
    if not hasattr(value_type(0.0), "_prev"):
        raise RuntimeError("the micrograd imported here is not Karpathy's; run in its own venv")
    if not hasattr(value_type, "tanh"):

        def tanh(self: Any) -> Any:
            t = math.tanh(self.data)
            out = value_type(t, (self,), "tanh")

            def _backward() -> None:
                self.grad += (1 - t * t) * out.grad

            out._backward = _backward
            return out

        value_type.tanh = tanh
    return value_type


def _torch() -> Any:
    torch = importlib.import_module("torch")
    torch.set_num_threads(1)
    return torch


def versions(engine: str) -> Result:
    """The interpreter and the version of the package behind ``engine``."""
    from importlib.metadata import version  # noqa: PLC0415 - only the driver's probe needs it

    package = {"ref": "micrograd-ref", "karpathy": "micrograd"}.get(engine, "torch")
    return {"python": sys.version.split()[0], "package": package, "version": version(package)}


# Workload 1: moons training.


def moons(engine: str, job: Result) -> Result:
    """Train the moons MLP from the job's initial parameters; seconds per step and losses.

    The job holds the points ``X``, the labels ``y``, the initial parameters
    ``init`` (layer by layer, neuron by neuron, weights then bias), ``steps``
    and ``alpha``. The result has per-step forward, backward and update times
    and the loss at every step (before its update).
    """
    if engine == "ref":
        return _moons_ref(job)
    if engine == "karpathy":
        return _moons_karpathy(job)
    if engine == "torch-scalar":
        return _moons_torch_scalar(job)
    return _moons_torch_batched(job)


class _Clock:
    """Splits each step into forward, backward and update."""

    def __init__(self) -> None:
        self.forward: list[float] = []
        self.backward: list[float] = []
        self.update: list[float] = []
        self.losses: list[float] = []

    def result(self) -> Result:
        return {
            "forward": self.forward,
            "backward": self.backward,
            "update": self.update,
            "losses": self.losses,
        }


def _moons_ref(job: Result) -> Result:
    nn = importlib.import_module("micrograd.nn")
    losses = importlib.import_module("micrograd.losses")
    optim = importlib.import_module("micrograd.optim")
    engine = importlib.import_module("micrograd.engine")
    X, y, steps, alpha = job["X"], job["y"], job["steps"], job["alpha"]
    model = nn.MLP(2, [16, 16, 1], seed=0)
    params = model.parameters()
    for p, v in zip(params, job["init"], strict=True):
        p.data = v
    opt = optim.SGD(params, lr=optim.linear_decay(100))
    clock = _Clock()
    collection = engine.gc_paused if job.get("collector", "engine") == "engine" else nullcontext
    for _ in range(steps):
        with collection():  # as micrograd.train.train() runs a step
            t0 = time.perf_counter()
            scores = [model(x) for x in X]
            loss = losses.max_margin_loss(scores, y, params, alpha)
            t1 = time.perf_counter()
            opt.zero_grad()
            loss.backward()
            t2 = time.perf_counter()
            opt.step()
            t3 = time.perf_counter()
            clock.losses.append(loss.data)
            del scores, loss  # freed while the collector is paused, as train() does
        _tick(clock, t0, t1, t2, t3)
    return clock.result()


def _moons_karpathy(job: Result) -> Result:
    """Karpathy's demo loop, with the mean taken as ``/ n`` like the other engines."""
    _karpathy_value()
    nn = importlib.import_module("micrograd.nn")
    X, y, steps, alpha = job["X"], job["y"], job["steps"], job["alpha"]
    model = nn.MLP(2, [16, 16, 1])
    params = model.parameters()
    for p, v in zip(params, job["init"], strict=True):
        p.data = v
    clock = _Clock()
    for k in range(steps):
        t0 = time.perf_counter()
        scores = [model(x) for x in X]
        margins = [(1 + -yi * si).relu() for yi, si in zip(y, scores, strict=True)]
        loss = sum(margins) / len(margins) + alpha * sum(p * p for p in params)
        t1 = time.perf_counter()
        model.zero_grad()
        loss.backward()
        t2 = time.perf_counter()
        lr = _lr(k)
        for p in params:
            p.data -= lr * p.grad
        t3 = time.perf_counter()
        clock.losses.append(loss.data)
        del scores, margins, loss
        _tick(clock, t0, t1, t2, t3)
    return clock.result()


def _moons_torch_scalar(job: Result) -> Result:
    """The same scalar graph in PyTorch: a 0-dim float64 tensor per scalar, ``+``/``*`` chains."""
    torch = _torch()
    X, y, steps, alpha = job["X"], job["y"], job["steps"], job["alpha"]

    def scalar(v: float, grad: bool = False) -> Any:
        return torch.tensor(v, dtype=torch.float64, requires_grad=grad)

    params = [scalar(v, grad=True) for v in job["init"]]
    layers = _neurons(params, [2, 16, 16, 1])
    Xt = [[scalar(c) for c in x] for x in X]
    clock = _Clock()
    for k in range(steps):
        t0 = time.perf_counter()
        scores = []
        for x in Xt:
            h = x
            for i, layer in enumerate(layers):
                out = []
                for w, b in layer:
                    act = b
                    for wi, xi in zip(w, h, strict=True):
                        act = act + wi * xi
                    out.append(act.relu() if i < len(layers) - 1 else act)
                h = out
            scores.append(h[0])
        margins = [(1.0 - yi * si).relu() for yi, si in zip(y, scores, strict=True)]
        data_loss = margins[0]
        for m in margins[1:]:
            data_loss = data_loss + m
        reg = params[0] * params[0]
        for p in params[1:]:
            reg = reg + p * p
        loss = data_loss / len(margins) + alpha * reg
        t1 = time.perf_counter()
        t2, t3 = _torch_backward_and_step(torch, loss, params, k)
        clock.losses.append(loss.item())
        del scores, margins, data_loss, reg, loss
        _tick(clock, t0, t1, t2, t3)
    return clock.result()


def _moons_torch_batched(job: Result) -> Result:
    """The same network as float64 matrices: the vectorised limit."""
    torch = _torch()
    X = torch.tensor(job["X"], dtype=torch.float64)
    y = torch.tensor(job["y"], dtype=torch.float64)
    steps, alpha = job["steps"], job["alpha"]
    weights = []
    for layer in _neurons(list(job["init"]), [2, 16, 16, 1]):
        W = torch.tensor([w for w, _ in layer], dtype=torch.float64, requires_grad=True)
        b = torch.tensor([b for _, b in layer], dtype=torch.float64, requires_grad=True)
        weights.append((W, b))
    params = [t for pair in weights for t in pair]
    clock = _Clock()
    for k in range(steps):
        t0 = time.perf_counter()
        h = X
        for i, (W, b) in enumerate(weights):
            h = h @ W.T + b
            if i < len(weights) - 1:
                h = h.relu()
        scores = h[:, 0]
        loss = (1.0 - y * scores).relu().sum() / len(job["y"]) + alpha * sum(
            (p * p).sum() for p in params
        )
        t1 = time.perf_counter()
        t2, t3 = _torch_backward_and_step(torch, loss, params, k)
        clock.losses.append(loss.item())
        _tick(clock, t0, t1, t2, t3)
    return clock.result()


def _lr(k: int) -> float:
    """The learning rate of SGD step ``k``, as ``micrograd.optim.linear_decay(100)`` gives it."""
    return 1.0 - 0.9 * k / 100


def _torch_backward_and_step(
    torch: Any, loss: Any, params: Sequence[Any], k: int
) -> tuple[float, float]:
    """Clear the grads, backpropagate ``loss``, take SGD step ``k``: the clock after each half."""
    for p in params:
        p.grad = None
    loss.backward()
    backward_done = time.perf_counter()
    lr = _lr(k)
    with torch.no_grad():
        for p in params:
            p.sub_(lr * p.grad)
    return backward_done, time.perf_counter()


def _neurons(params: Sequence[Any], sizes: Sequence[int]) -> list[list[tuple[list[Any], Any]]]:
    """``params`` in the documented order, grouped as layers of ``(weights, bias)``."""
    layers = []
    it = iter(params)
    for nin, nout in itertools.pairwise(sizes):
        layer = []
        for _ in range(nout):
            w = [next(it) for _ in range(nin)]
            layer.append((w, next(it)))
        layers.append(layer)
    return layers


def _tick(clock: _Clock, t0: float, t1: float, t2: float, t3: float) -> None:
    clock.forward.append(t1 - t0)
    clock.backward.append(t2 - t1)
    clock.update.append(t3 - t2)


# Workloads 2 and 3: op throughput and scaling, on one graph shape.

LAYERS = 10
"""Layers of ``tanh(a·b + c)`` units in the op graph; its width grows with its size."""

REACH = 16
"""A unit reads nodes at most this far from its own position in the previous layer."""


class OpPlan(NamedTuple):
    """The op graph, decided before any timing: leaves, then which nodes each unit reads."""

    leaves: list[float]
    """The leaf values, uniform in [-1, 1]."""
    picks: list[list[tuple[int, int]]]
    """For each layer and unit k, the ``(i, j)`` of ``prev[i]·prev[j] + prev[k]``."""

    @property
    def nodes(self) -> int:
        """The add, mul and tanh nodes the plan builds (leaves not counted)."""
        width = len(self.leaves)
        return 3 * width * len(self.picks) + width - 1


def op_plan(nodes: int, seed: int = 0) -> OpPlan:
    """A graph of about ``nodes`` add/mul/tanh nodes with reuse, of the same shape at every size.

    ``LAYERS`` layers of ``width`` units ``tanh(prev[i]·prev[j] + prev[k])``:
    unit k reads node k of the previous layer (so every node is used) and two
    random ones within ``REACH`` of k (so nodes are reused). A pairwise tree
    of additions sums the last layer into the root. Only the width grows with
    the size: the depth stays small, so recursive engines run it at any size,
    and what a unit reads stays near it, so the working set of the caches
    does not grow with the graph either: what scales is the engine.
    """
    width = max(1, round((nodes + 1) / (3 * LAYERS + 1)))
    rng = random.Random(seed)
    leaves = [rng.uniform(-1.0, 1.0) for _ in range(width)]
    near = range(-REACH, REACH + 1)
    picks = [
        [((k + rng.choice(near)) % width, (k + rng.choice(near)) % width) for k in range(width)]
        for _ in range(LAYERS)
    ]
    return OpPlan(leaves, picks)


def build_op_graph(plan: OpPlan, leaves: list[Any]) -> Any:
    """The plan's graph over ``leaves`` (scalars of any engine); returns its root."""
    prev = leaves
    for picks in plan.picks:
        prev = [(prev[i] * prev[j] + c).tanh() for (i, j), c in zip(picks, prev, strict=True)]
    while len(prev) > 1:
        paired = [prev[k] + prev[k + 1] for k in range(0, len(prev) - 1, 2)]
        prev = [*paired, prev[-1]] if len(prev) % 2 else paired
    return prev[0]


def ops(engine: str, job: Result) -> Result:
    """Build the op graph of ``job["nodes"]`` nodes and backpropagate, ``job["repeat"]`` times.

    Returns the seconds of each build and each backward, the node count and
    a checksum: the root's value and the sum of the leaves' gradients.
    """
    plan = op_plan(job["nodes"])
    if engine == "torch-batched":
        return _ops_batched(plan, job["repeat"])
    s = scalars(engine, job.get("collector", "engine"))
    build: list[float] = []
    backward: list[float] = []
    checksum: list[float] = []
    for _ in range(job["repeat"]):
        gc.collect()
        leaves = [s.leaf(x) for x in plan.leaves]
        with s.collection():
            t0 = time.perf_counter()
            root = build_op_graph(plan, leaves)
            t1 = time.perf_counter()
            root.backward()
            t2 = time.perf_counter()
        build.append(t1 - t0)
        backward.append(t2 - t1)
        checksum = [s.value(root), math.fsum(s.grad(v) for v in leaves)]
        del root, leaves
    return {"nodes": plan.nodes, "build": build, "backward": backward, "checksum": checksum}


def _ops_batched(plan: OpPlan, repeat: int) -> Result:
    torch = _torch()
    picks = [(torch.tensor([i for i, _ in p]), torch.tensor([j for _, j in p])) for p in plan.picks]
    build: list[float] = []
    backward: list[float] = []
    checksum: list[float] = []
    for _ in range(repeat):
        leaves = torch.tensor(plan.leaves, dtype=torch.float64, requires_grad=True)
        t0 = time.perf_counter()
        prev = leaves
        for i, j in picks:
            prev = (prev[i] * prev[j] + prev).tanh()
        while prev.shape[0] > 1:
            n = prev.shape[0]
            paired = prev[0 : n - 1 : 2] + prev[1:n:2]
            prev = torch.cat([paired, prev[-1:]]) if n % 2 else paired
        root = prev[0]
        t1 = time.perf_counter()
        root.backward()
        t2 = time.perf_counter()
        build.append(t1 - t0)
        backward.append(t2 - t1)
        checksum = [root.item(), math.fsum(leaves.grad.tolist())]
    return {"nodes": plan.nodes, "build": build, "backward": backward, "checksum": checksum}


# Workload 4: the deep chain.


def chain(engine: str, job: Result) -> Result:
    """``x → x·1.0001 + 0.0001`` at each depth of ``job["depths"]``: build and backward seconds.

    Depths run in order until one fails (by RecursionError, for a recursive
    engine); the deepest that survives is then found by bisection.
    """
    s = scalars(engine, job.get("collector", "engine"))
    times: dict[str, list[float]] = {}
    deepest = 0
    failed: int | None = None
    for depth in job["depths"]:
        outcome = _chain_once(s, depth)
        if outcome is None:
            failed = depth
            break
        times[str(depth)] = list(outcome)
        deepest = depth
    if failed is not None:
        lo, hi = deepest, failed  # lo survives, hi fails
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if _chain_once(s, mid) is not None else (lo, mid)
        deepest = lo
    return {"times": times, "deepest": deepest, "failed": failed}


def _chain_once(s: Scalars, depth: int) -> tuple[float, float] | None:
    """Build and backward seconds of a chain of ``depth`` steps, or None if backward fails."""
    gc.collect()
    x = s.leaf(0.5)
    with s.collection():
        t0 = time.perf_counter()
        y = x
        for _ in range(depth):
            y = y * 1.0001 + 0.0001
        t1 = time.perf_counter()
        try:
            y.backward()
        except RecursionError:
            return None
        t2 = time.perf_counter()
    if not math.isfinite(s.grad(x)):  # pragma: no cover - a wrong engine, not a slow one
        raise AssertionError(f"chain of {depth}: d/dx is {s.grad(x)}")
    return t1 - t0, t2 - t1


# Workload 5: memory.


def memory(engine: str, job: Result) -> Result:
    """Bytes per live node of the op graph of ``job["nodes"]`` nodes, leaves included.

    ``job["method"]`` is ``"tracemalloc"`` (Python allocations only, so not
    for PyTorch) or ``"rss"`` (the process's resident memory); each method
    runs in a fresh process, since tracing costs memory of its own.
    """
    plan = op_plan(job["nodes"])
    s = scalars(engine, job.get("collector", "engine"))
    count = plan.nodes + len(plan.leaves)
    gc.collect()
    if job["method"] == "tracemalloc":
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        leaves = [s.leaf(x) for x in plan.leaves]
        root = build_op_graph(plan, leaves)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    else:
        before = _rss()
        leaves = [s.leaf(x) for x in plan.leaves]
        root = build_op_graph(plan, leaves)
        gc.collect()
        after = _rss()
    assert math.isfinite(s.value(root))
    return {"nodes": count, "bytes_per_node": (after - before) / count}


def _rss() -> int:
    """The resident memory of this process in bytes (its peak, where /proc is missing)."""
    statm = Path("/proc/self/statm")
    if statm.exists():
        return int(statm.read_text().split()[1]) * resource.getpagesize()
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # pragma: no cover


WORKLOADS: dict[str, Callable[[str, Result], Result]] = {
    "moons": moons,
    "ops": ops,
    "chain": chain,
    "memory": memory,
}
"""Every workload, by the name a job gives."""


def run(job: Result) -> Result:
    """Run one job: ``{"engine": …, "workload": …, …}``; ``"versions"`` reports versions."""
    engine, workload = job["engine"], job["workload"]
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if workload == "versions":
        return versions(engine)
    return WORKLOADS[workload](engine, job)


@contextmanager
def _stdout_for_json() -> Iterator[Any]:
    """Standard output for the result, with anything else printed sent to standard error."""
    out = sys.stdout
    sys.stdout = sys.stderr
    try:
        yield out
    finally:
        sys.stdout = out


def main() -> None:
    """Read a job from standard input, run it, print its result as JSON."""
    job = json.load(sys.stdin)
    with _stdout_for_json() as out:
        result = run(job)
    json.dump(result, out)


if __name__ == "__main__":
    main()
