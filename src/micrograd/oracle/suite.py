"""Running the catalogue against a student's engine: batched cases, shrinking, statuses.

For each check: the probe runs first (an unsupported op stops there); then
Hypothesis draws ``max_examples`` cases from ``seed``, which the child runs
in one batch; if one fails, ``hypothesis.find`` searches again one case at a
time and shrinks the failure to a minimal reproducer.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from micrograd.oracle.checks import CATALOGUE, Check
from micrograd.oracle.compare import (
    Mismatch,
    Tolerance,
    expected,
    mismatches,
    witnesses_agree,
)
from micrograd.oracle.runner import LoadError, Target, Worker, WorkerCrashed, WorkerTimeout

__all__ = ["STATUSES", "CheckResult", "Options", "SuiteResult", "run_suite"]

Program = dict[str, Any]

STATUSES: Final = ("passed", "failed", "error", "timeout", "unsupported")
"""Every status a check can end with."""

_UNSUPPORTED_ERRORS: Final = frozenset({"TypeError", "NotImplementedError", "AssertionError"})
_BATCH: Final = 64
_PER_DRAW: Final = 10  # programs per Hypothesis example: its overhead is per example
_PHASES: Final = {
    "forward": "building the graph",
    "backward": "in backward()",
    "read": "reading .data or .grad",
}

_ISOLATE_SECONDS: Final = 5.0  # at most this long spent finding the case that hangs or crashes

PROBE_TIMEOUT: Final = 1.0
"""Seconds allowed for a check's first, one-op case; so that a hanging engine is graded fast."""


@dataclass(frozen=True)
class Options:
    """How to run the checks."""

    seed: int = 0
    """Seeds Hypothesis; the same seed draws the same cases."""
    max_examples: int = 100
    """Cases per check, besides the probe."""
    timeout: float = 5.0
    """Seconds per check, shrinking included."""
    require: frozenset[str] = frozenset()
    """Checks that fail instead of being reported unsupported."""
    tolerance: Tolerance = field(default_factory=Tolerance)
    """How close the numbers must be."""
    use_torch: bool = True
    """Use PyTorch as a second witness when it is installed."""
    only: frozenset[str] = frozenset()
    """Run only these checks (all when empty)."""


@dataclass
class CheckResult:
    """The outcome of one check."""

    name: str
    """The check's name."""
    op: str
    """What it exercises."""
    status: str
    """One of :data:`STATUSES`."""
    message: str
    """One line for the table."""
    program: Program | None = None
    """The minimal failing program, for the reproducer."""
    want: dict[str, Any] | None = None
    """The reference engine's result for ``program``."""
    got: dict[str, Any] | None = None
    """The student's result for ``program`` (None for a timeout or a crash)."""
    found: list[Mismatch] = field(default_factory=list)
    """The numbers that differ."""
    cases: int = 0
    """How many cases were graded."""
    excluded: int = 0
    """Cases not graded because a witness disagreed with the reference."""
    output: str = ""
    """What the engine printed during this check (capped)."""
    seconds: float = 0.0
    """Wall time of the check."""
    reproducer: str | None = None
    """A ready reproducer, for checks that are not expression programs (``nn_mlp``)."""


@dataclass
class SuiteResult:
    """The outcome of a whole run."""

    target: Target
    """What was graded."""
    loaded: str
    """``module.Class`` that was graded."""
    options: Options
    """How it was run."""
    checks: list[CheckResult]
    """One result per check, in catalogue order."""
    seconds: float = 0.0
    """Wall time of the run."""
    load_output: str = ""
    """What the engine printed when imported."""

    @property
    def passed(self) -> bool:
        """True when no check failed, errored or timed out."""
        return all(c.status in ("passed", "unsupported") for c in self.checks)

    def counts(self) -> dict[str, int]:
        """How many checks ended with each status."""
        return {s: sum(c.status == s for c in self.checks) for s in STATUSES}


class _OutOfTime(Exception):
    """The check's time budget ran out."""


def _draw(strategy: SearchStrategy[Program], options: Options) -> list[Program]:
    """``max_examples`` programs drawn by Hypothesis from ``seed``, no student code involved.

    Each Hypothesis example is a list of programs, since Hypothesis's cost is
    per example and the student's engine runs them all in one batch anyway.
    """
    drawn: list[Program] = []
    per_draw = min(_PER_DRAW, options.max_examples)

    @hypothesis_seed(options.seed)
    @settings(
        max_examples=-(-options.max_examples // per_draw),
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(strategy, min_size=per_draw, max_size=per_draw))
    def collect(programs: list[Program]) -> None:
        drawn.extend(programs)

    collect()
    return drawn[: options.max_examples]


class _Grader:
    """Runs one check: grades cases in the child against the reference."""

    def __init__(self, check: Check, worker: Worker, options: Options) -> None:
        self.check = check
        self.worker = worker
        self.options = options
        self.deadline = time.monotonic() + options.timeout
        self.output: list[str] = []
        self.cases = 0
        self.excluded = 0
        self.budget = options.timeout
        """The timeout of the latest request."""
        self.current: Program | None = None
        """The program being run, for the reproducer of a timeout or a crash."""
        self.batch: list[Program] = []
        """The programs of the current request, when more than one."""

    def which(self) -> str:
        """After a timeout or a crash: find the case to blame, and say how sure that is.

        A batch is halved, each half run with the probe's timeout, down to one
        case (for at most 5 s), which is then run alone: if it hangs or crashes by itself, it is
        the reproducer; if not (an engine whose behaviour depends on history),
        the batch's first case is, and the message says so.
        """
        batch, size = self.batch, len(self.batch)
        if not batch:
            return ""
        self.batch = []
        give_up = time.monotonic() + _ISOLATE_SECONDS
        try:
            while len(batch) > 1 and time.monotonic() < give_up:
                half = batch[: len(batch) // 2]
                batch = half if self._breaks(half) else batch[len(half) :]
            if len(batch) == 1 and self._breaks(batch):
                self.current = batch[0]
                return ""
        except LoadError:
            pass
        return f"; in a batch of {size} cases, the reproducer is the first"

    def _breaks(self, programs: list[Program]) -> bool:
        """Whether ``programs`` hang or crash the engine, run on their own."""
        try:
            self.worker.request(programs, PROBE_TIMEOUT)
        except (WorkerTimeout, WorkerCrashed):
            return True
        return False

    def remaining(self) -> float:
        """Seconds left in this check's budget."""
        return self.deadline - time.monotonic()

    def run(self, programs: list[Program], timeout: float | None = None) -> list[Any]:
        """The student's results for ``programs``, batched, within ``timeout`` or the budget."""
        results: list[Any] = []
        for start in range(0, len(programs), _BATCH):
            if self.remaining() <= 0:
                raise _OutOfTime
            budget = self.remaining() if timeout is None else min(timeout, self.remaining())
            self.budget = budget
            got, output = self.worker.request(programs[start : start + _BATCH], budget)
            results += got
            if output:
                self.output.append(output)
        return results

    def grade(self, program: Program, got: dict[str, Any]) -> CheckResult | None:
        """None when ``got`` is right (or the case is not graded), else the failure.

        A disagreement counts only once the witnesses confirm the reference's
        numbers for this case; otherwise the case is not graded.
        """
        want = expected(program)
        found: list[Mismatch] = []
        if "error" in got:
            status, message = "error", f"raised {got['error']} {_PHASES[got['phase']]}"
        else:
            found = mismatches(program, want, got, self.options.tolerance)
            if not found:
                self.cases += 1
                return None
            first, more = found[0], f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            status = "failed"
            message = f"{first.quantity} is {first.got!r}, expected {first.want!r}{more}"
        if not witnesses_agree(
            program, want, self.options.tolerance, use_torch=self.options.use_torch
        ):
            self.excluded += 1
            return None
        self.cases += 1
        return self.result(status, message, program, want=want, got=got, found=found)

    def result(
        self,
        status: str,
        message: str,
        program: Program | None = None,
        *,
        want: dict[str, Any] | None = None,
        got: dict[str, Any] | None = None,
        found: list[Mismatch] | None = None,
    ) -> CheckResult:
        """A :class:`CheckResult` of this check."""
        return CheckResult(
            self.check.name,
            self.check.op,
            status,
            message,
            program,
            want,
            got,
            found or [],
            self.cases,
            self.excluded,
            "".join(self.output),
        )

    def shrink(self, strategy: SearchStrategy[Program], first: CheckResult) -> CheckResult:
        """The smallest failure ``hypothesis.find`` reaches, else ``first``."""
        best: list[CheckResult] = [first]
        stopped = [False]  # out of time, or the engine died: answer False until find() gives up

        def fails(program: Program) -> bool:
            if stopped[0]:
                return False
            try:
                (got,) = self.run([program])
            except (WorkerTimeout, WorkerCrashed, LoadError, _OutOfTime):
                stopped[0] = True
                return False
            failure = self.grade(program, got)
            if failure is None or failure.status != first.status:
                return False
            if _size(program) <= _size(best[0].program):
                best[0] = failure
            return True

        # Shrinking is best effort: whatever find() raises (NoSuchExample when it does not
        # meet the failure again, Flaky for an engine that is not deterministic …), the
        # failure found so far stands.
        with contextlib.suppress(Exception):
            find(
                strategy,
                fails,
                settings=settings(
                    max_examples=max(self.options.max_examples, 200),
                    database=None,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                ),
                random=random.Random(self.options.seed),
            )
        return best[0]


def _size(program: Program | None) -> tuple[int, float]:
    """A shrink order for reproducers: fewer ops, then smaller numbers."""
    if program is None:  # pragma: no cover - only probes and drawn cases are compared
        return (0, 0.0)
    numbers = [abs(x) for x in program["leaves"]]
    return (len(program["ops"]), sum(numbers))


def run_check(
    check: Check, worker: Worker, options: Options, passed: Collection[str]
) -> CheckResult:
    """Run one check against the engine in ``worker``."""
    started = time.monotonic()
    grader = _Grader(check, worker, options)
    try:
        result = _run_check(grader, check, options, passed)
    except WorkerTimeout:
        message = f"no answer within {grader.budget:.1f} s (an infinite loop?)" + grader.which()
        result = grader.result("timeout", message, grader.current)
    except WorkerCrashed as exc:
        result = grader.result("error", str(exc) + grader.which(), grader.current)
    except _OutOfTime:
        result = grader.result("timeout", f"ran out of its {options.timeout:g} s", grader.current)
    result.seconds = time.monotonic() - started
    return result


def _run_check(
    grader: _Grader, check: Check, options: Options, passed: Collection[str]
) -> CheckResult:
    strategy = check.programs(passed)
    if strategy is None:
        return grader.result("unsupported", f"needs {check.needs} to pass first")
    grader.current = check.probe
    (got,) = grader.run([check.probe], timeout=PROBE_TIMEOUT)
    if check.kind == "op" and _absent(got):
        status = "failed" if check.name in options.require else "unsupported"
        why = (
            f"Value has no {got['missing']}"
            if "missing" in got
            else f"raised {got['error']} on the simplest inputs"
        )
        result = grader.result(status, why, check.probe)
        if status == "failed":
            result.want = expected(check.probe)
            result.got = got
        return result
    failure = grader.grade(check.probe, got)
    if failure is not None:
        return failure
    programs = _draw(strategy, options)
    for start in range(0, len(programs), _BATCH):
        batch = programs[start : start + _BATCH]
        grader.current, grader.batch = batch[0], batch
        results = grader.run(batch)
        grader.batch = []
        for program, result in zip(batch, results, strict=True):
            failure = grader.grade(program, result)
            if failure is not None:
                grader.current = program
                return grader.shrink(strategy, failure)
    message = f"{grader.cases} cases"
    if grader.excluded:
        message += f" ({grader.excluded} not graded: the witnesses disagreed)"
    return grader.result("passed", message)


def _absent(got: dict[str, Any]) -> bool:
    """Whether the probe's result means the op is not there at all."""
    if "missing" in got:
        return True
    return "error" in got and got["phase"] == "forward" and got["exc_type"] in _UNSUPPORTED_ERRORS


def run_suite(target: Target, options: Options) -> SuiteResult:
    """Run every check against ``target``'s engine in a child process.

    Raises:
        LoadError: If the engine cannot be loaded.
    """
    started = time.monotonic()
    with Worker(target, load_timeout=max(options.timeout, 10.0)) as worker:
        worker.start()
        loaded, load_output = worker.loaded_class, worker.load_output
        results = list(_each(worker, options))
    return SuiteResult(target, loaded, options, results, time.monotonic() - started, load_output)


def _each(worker: Worker, options: Options) -> Iterator[CheckResult]:
    passed: set[str] = set()
    for check in CATALOGUE:
        if options.only and check.name not in options.only:
            continue
        try:
            result = run_check(check, worker, options, passed)
        except LoadError as exc:
            result = CheckResult(
                check.name, check.op, "error", f"restarting the engine failed: {exc}"
            )
        if result.status == "passed":
            passed.add(check.name)
        yield result
    if worker.target.nn is not None and (not options.only or "nn_mlp" in options.only):
        yield _run_nn(worker, options)


def _run_nn(worker: Worker, options: Options) -> CheckResult:
    """The ``nn_mlp`` check: the student's MLP against the reference's, same parameters."""
    from micrograd.oracle import nn_check  # noqa: PLC0415 - only with --nn

    assert worker.target.nn is not None  # the caller checked
    started = time.monotonic()
    result = CheckResult("nn_mlp", "MLP(nin, nouts): outputs and parameter gradients", "", "")
    nets = nn_check.networks(options.seed)
    try:
        results, result.output = worker.request(nets, options.timeout, kind="networks")
    except WorkerTimeout:
        result.status, result.message = "timeout", f"no answer within {options.timeout:g} s"
    except (WorkerCrashed, LoadError) as exc:
        result.status, result.message = "error", str(exc)
    else:
        result.status, result.message, failing, layout = nn_check.grade_networks(
            nets, results, options.tolerance
        )
        result.cases = len(nets)
        if failing is not None:
            line = worker.target.nn.import_line()
            result.reproducer = nn_check.reproducer(line, failing, layout)
    result.seconds = time.monotonic() - started
    return result
