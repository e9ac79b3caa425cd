"""Running the catalogue against a student's engine: batched cases, shrinking, statuses.

For each check: the probe runs first (an unsupported op stops there); then
Hypothesis draws ``max_examples`` cases from ``seed``, which the child runs
in one batch; if one fails, ``hypothesis.find`` searches again one case at a
time and shrinks the failure to a minimal reproducer.
"""

from __future__ import annotations

import contextlib
import random
import re
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Final

from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from micrograd.oracle.checks import (
    CATALOGUE,
    EDGE_CHAIN_DEPTH,
    Check,
    chain,
    closure,
    first_cases,
)
from micrograd.oracle.compare import (
    Mismatch,
    Tolerance,
    expected,
    mismatches,
    witnesses_agree,
)
from micrograd.oracle.determinism import seed_only
from micrograd.oracle.diagnose import Finding, diagnose
from micrograd.oracle.runner import LoadError, Target, Worker, WorkerCrashed, WorkerTimeout
from micrograd.oracle.targets.stdio import StdioWorker, port_wording
from micrograd.oracle.worker import method_for, operands

__all__ = ["STATUSES", "CheckResult", "Options", "SuiteResult", "draw", "run_suite"]

Program = dict[str, Any]

STATUSES: Final = ("passed", "failed", "error", "timeout", "unsupported", "not_graded")
"""Every status a check can end with. ``not_graded``: something it depends on is broken."""

_UNSUPPORTED_ERRORS: Final = frozenset({"NotImplementedError", "AssertionError"})
_NUMBER_READ_AS_VALUE: Final = re.compile(r"'(int|float)' object has no attribute")
_OPERAND_REFUSED: Final = re.compile(r"unsupported operand type|bad operand type")
_RAISED_IN: Final = re.compile(r", in (\w+)\n")
_BATCH: Final = 64
_PER_DRAW: Final = 10  # programs per Hypothesis example: its overhead is per example
_PHASES: Final = {
    "forward": "building the graph",
    "backward": "in backward()",
    "read": "reading .data or .grad",
}

_ISOLATE_SECONDS: Final = 5.0  # at most this long spent finding the case that hangs or crashes
_SHRINK_SECONDS: Final = 60.0  # a safety cap only: shrinking is bounded by its count of cases
_OP_NAMES: Final = frozenset(c.name for c in CATALOGUE if c.kind == "op")
_CHAINS: Final = frozenset({"deep_chain", "deep_chain_5000"})  # RecursionError: find the depth
EDGE_NAMES: Final = frozenset(c.name for c in CATALOGUE if c.kind == "edge")
"""The checks of the edge group."""
_FAULTS: Final = frozenset({"failed", "error", "timeout"})
_CAUSE_RULES: Final = 3  # a cause shared by checks of this many different rules is the root cause
_WALK_RULES: Final = 2  # a faulty walk diagnosed in checks of two rules: a root cause

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
    strict: bool = False
    """Count the edge group: its failures fail the run."""
    assignment: str = ""
    """The assignment file these options come from ("" for none), for the rerun line."""
    timeout_option: str = "--timeout"
    """The option that sets :attr:`timeout` where the user runs the checks, for advice."""
    sandbox: bool = False
    """Run the engine's process in bubblewrap (:mod:`micrograd.oracle.targets.sandbox`)."""
    sandbox_root: str = ""
    """The submission's folder or file, the only one of its paths the sandbox shows ("": its
    engine's folders)."""

    @property
    def load_timeout(self) -> float:
        """Seconds the engine's import may take: :attr:`timeout`, and at least 10."""
        return max(self.timeout, 10.0)

    def more_time(self) -> str:
        """How to give a slow import more time: the assignment's ``timeout``, or the option's."""
        if self.assignment:
            return (
                f"set timeout above {self.load_timeout:g} in the assignment file {self.assignment}"
            )
        return f"give {self.timeout_option} more than {self.load_timeout:g} seconds"


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
    diagnosis: str = ""
    """The kind of misconception the message names ("" for none), numbers masked out."""
    finding: str = ""
    """The kind of that misconception (see :class:`~micrograd.oracle.diagnose.Finding`), or ""."""


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
    placeholders: list[str] = field(default_factory=list)
    """Packages the engine imports that are not installed here (``matplotlib`` …): placeholders."""
    skipped_cells: list[tuple[int, str]] = field(default_factory=list)
    """A notebook's cells that raised while it loaded, with the error: skipped, as Jupyter does."""
    cause: CheckResult | None = None
    """One fault that breaks every check (``backward()`` hangs, changes nothing …), or None.

    Its ``message`` says what it is and its program reproduces it; the checks
    it breaks are ``not_graded``.
    """

    @property
    def passed(self) -> bool:
        """True when there is no root cause and no counted check failed, errored or timed out."""
        return self.cause is None and all(
            c.status in ("passed", "unsupported", "not_graded") for c in self.counted()
        )

    def counted(self) -> list[CheckResult]:
        """The checks that decide the verdict: all but the edge group, unless strict."""
        if self.options.strict:
            return self.checks
        return [c for c in self.checks if c.name not in EDGE_NAMES]

    def edge(self) -> list[CheckResult]:
        """The edge group's results (reported apart unless strict)."""
        return [c for c in self.checks if c.name in EDGE_NAMES]

    def counts(self) -> dict[str, int]:
        """How many counted checks ended with each status."""
        return {s: sum(c.status == s for c in self.counted()) for s in STATUSES}


class _OutOfTime(Exception):
    """The check's time budget ran out."""


def draw(strategy: SearchStrategy[Program], options: Options) -> list[Program]:
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

    with seed_only():
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
        self.broke = False
        """Whether the engine hung or crashed while a failure was shrunk."""
        self.probed: dict[str, dict[str, Any]] = {}
        """The student's results on the diagnoses' follow-up probes, by program."""

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
        numbers for this case; otherwise the case is not graded. A wrong number
        whose cause can be told from the numbers says that cause. The time this
        takes is the grader's own (the reference engine, the witnesses,
        PyTorch's first import), so it moves the check's deadline: the timeout
        measures the student's engine alone.
        """
        started = time.monotonic()
        try:
            return self._grade(program, got)
        finally:
            self.deadline += time.monotonic() - started

    def _grade(self, program: Program, got: dict[str, Any]) -> CheckResult | None:
        """:meth:`grade`, without moving the deadline."""
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
            if program.get("reuse"):
                message = f"with its input used twice, {message}"
            elif program.get("nested"):
                message = f"applied to its own result, {message}"
            if got.get("narrow"):
                message += (
                    f"; your numbers are {got['narrow']}, which keeps too few digits for a "
                    f"relative tolerance of {self.options.tolerance.rel_tol:g}: compute in "
                    "Python floats or numpy.float64"
                )
        if not witnesses_agree(
            program, want, self.options.tolerance, use_torch=self.options.use_torch
        ):
            self.excluded += 1
            return None
        self.cases += 1
        finding = self._confirmed(diagnose(program, want, got, self.options.tolerance))
        if finding is not None:
            message = finding.message
            if self.worker.target.kind == "command":
                message = port_wording(message)
        failure = self.result(status, message, program, want=want, got=got, found=found)
        if finding is not None:
            failure.diagnosis = re.sub(r"[-+.\de]+", "#", finding.message)
            failure.finding = finding.kind
        return failure

    def _confirmed(self, finding: Finding | None) -> Finding | None:
        """``finding``, once the student's engine fails its follow-up probe as predicted.

        Probes are remembered, so that shrinking asks each one once; an engine
        that hangs or crashes on one confirms nothing.
        """
        if finding is None or finding.probe is None:
            return finding
        probe = finding.probe
        key = repr(probe.program)
        if key not in self.probed:
            try:
                (got,), _ = self.worker.request([probe.program], PROBE_TIMEOUT)
            except (WorkerTimeout, WorkerCrashed, LoadError):
                got = {"error": "no answer"}
            self.probed[key] = got
        got = self.probed[key]
        if "error" in got:
            return None
        grad, tol = got["grads"][probe.leaf], self.options.tolerance
        return (
            finding
            if tol.close(grad, probe.mistaken) and not tol.close(grad, probe.correct)
            else None
        )

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
        """The smallest failure ``hypothesis.find`` reaches from ``first``, then made plainer.

        Shrinking is bounded by its number of cases, not by the clock, so the
        same engine gives the same reproducer on a busy machine; the clock only
        stops an engine that makes it run for over a minute.
        """
        best: list[CheckResult] = [first]
        deadline = time.monotonic() + _SHRINK_SECONDS

        def fails(program: Program) -> bool:
            failure = self._fails_alike(program, first, deadline)
            if failure is None:
                return False
            if _size(program) <= _size(best[0].program):
                best[0] = failure
            return True

        # Shrinking is best effort: whatever find() raises (NoSuchExample when it does not
        # meet the failure again, Flaky for an engine that is not deterministic …), the
        # failure found so far stands.
        with contextlib.suppress(Exception), seed_only():
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
        failure = best[0]
        assert failure.program is not None  # only drawn cases are shrunk
        for candidate in _plainer_programs(failure.program):
            failure = self._fails_alike(candidate, failure, deadline) or failure
        return failure

    def _fails_alike(
        self, program: Program, like: CheckResult, deadline: float
    ) -> CheckResult | None:
        """The failure ``program`` gives, if it is ``like``'s (status and diagnosis); else None.

        A hang or a crash of the engine stops all further shrinking (``broke``),
        and so does the ``deadline``: every later call answers None at once.
        """
        if self.broke or time.monotonic() > deadline:
            return None
        try:
            got, output = self.worker.request([program], self.options.timeout)
        except (WorkerTimeout, WorkerCrashed, LoadError):
            self.broke = True
            return None
        self.output.append(output)
        failure = self.grade(program, got[0])
        if failure is None or (failure.status, failure.diagnosis) != (like.status, like.diagnosis):
            return None  # a case that hides the misconception named is no smaller
        return failure


def _plainer_programs(program: Program) -> Iterator[Program]:
    """``program`` without its unused leaves, then with each leaf rounded, one at a time."""
    n = len(program["leaves"])
    used = {i for op in program["ops"] for i in operands(op)} | {n + len(program["ops"]) - 1}
    keep = [i for i in range(n) if i in used]
    if len(keep) < n:
        renumber = {old: new for new, old in enumerate([*keep, *range(n, n + len(program["ops"]))])}
        ops = [_renumbered(op, renumber) for op in program["ops"]]
        program = {**program, "leaves": [program["leaves"][i] for i in keep], "ops": ops}
        yield program
    for i, x in enumerate(program["leaves"]):
        for rounder in (round, lambda v: round(v * 2) / 2, lambda v: round(v, 1)):
            y = float(rounder(x))
            if y != x:
                leaves = [*program["leaves"]]
                leaves[i] = y
                yield {**program, "leaves": leaves}
                break


def _renumbered(op: list[Any], renumber: dict[int, int]) -> list[Any]:
    kind = op[0]
    if kind == "bin":
        return [kind, op[1], renumber[op[2]], renumber[op[3]]]
    if kind == "rnum":
        return [kind, op[1], op[2], renumber[op[3]]]
    return [kind, op[1], renumber[op[2]], *op[3:]]


def _size(program: Program | None) -> tuple[int, int, int, float]:
    """A shrink order for reproducers: fewer ops and leaves, then rounder and smaller numbers."""
    if program is None:  # pragma: no cover - only probes and drawn cases are compared
        return (0, 0, 0, 0.0)
    numbers = program["leaves"]
    rough = sum(float(x) != round(x) for x in numbers)
    return (len(program["ops"]), len(numbers), rough, sum(abs(x) for x in numbers))


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
    first = first_cases(check, passed)
    if strategy is None or not first:
        return grader.result("not_graded", f"needs {check.needs} to pass first")
    probe = first[0]
    grader.current = probe
    (got,) = grader.run([probe], timeout=PROBE_TIMEOUT)
    if check.kind == "op" and _absent(got, probe):
        status = "failed" if check.name in options.require else "unsupported"
        if "missing" in got and grader.worker.target.kind == "command":
            why = got["error"]
        elif "missing" in got:
            why = f"{grader.worker.target.class_name} has no {got['missing']}"
        elif got["exc_type"] == "AttributeError":
            why = _number_advice(got, grader.worker.target.class_name)
        else:
            why = f"raised {got['error']} on the simplest inputs"
        result = grader.result(status, why, probe)
        if status == "failed":
            result.want = expected(probe)
            result.got = got
        return result
    failure = grader.grade(probe, got)
    if failure is not None:
        return failure
    started = time.monotonic()
    programs = first[1:] + draw(strategy, options)
    grader.deadline += time.monotonic() - started  # drawing is the grader's time too
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


def _number_advice(got: dict[str, Any], class_name: str) -> str:
    """Why a form with a plain number is unsupported, and the change that would take numbers.

    The change depends on the method that read the number as a Value: an
    exponent is used as it is (``self.data ** other``), an operand is wrapped.
    """
    frames = _RAISED_IN.findall(got.get("trace", ""))
    method = frames[-1] if frames else ""  # the innermost frame: where it was raised
    where = f" in {method}" if method else ""
    if method in ("__pow__", "__rpow__"):
        fix = "a number exponent has no .data: use it as it is, as in self.data ** other"
    else:
        fix = f"to take them, wrap: other = other if isinstance(other, {class_name}) else "
        fix += f"{class_name}(other)"
    return f"it takes no plain numbers: raised {got['error']}{where} on the simplest inputs ({fix})"


def _absent(got: dict[str, Any], probe: Program) -> bool:
    """Whether the probe's result means the op is not there at all.

    Besides a missing method, the errors of :data:`_UNSUPPORTED_ERRORS` and a
    ``TypeError`` from Python's operator dispatch (or naming the operand types
    refused), an op with a number operand (``a + 2``, ``2 * a``) that reads the number as
    a Value (``'int' object has no attribute 'data'``) does not take numbers:
    the lecture's engine before it wraps them.
    """
    if "missing" in got:
        return True
    if "error" not in got or got["phase"] != "forward":
        return False
    if got["exc_type"] in _UNSUPPORTED_ERRORS:
        return True
    if got["exc_type"] == "TypeError":
        # Python's operator dispatch refusing the operands (no __rtruediv__, NotImplemented)
        # means the op is not there; any other TypeError raised in the student's own code is
        # a bug in it ('NoneType' object is not iterable), not a choice.
        return not got.get("trace") or _OPERAND_REFUSED.search(got["error"]) is not None
    number_operand = probe["ops"][0][0] in ("lnum", "rnum")
    return (
        number_operand
        and got["exc_type"] == "AttributeError"
        and _NUMBER_READ_AS_VALUE.search(got["error"]) is not None
    )


def run_suite(target: Target, options: Options) -> SuiteResult:
    """Run every check against ``target``'s engine in a child process.

    With ``options.only``, the checks named there run together with the ones
    they depend on (which ops passed decides what a check draws), so that a
    check gives the same verdict alone as in a full run; only the named ones
    are reported.

    Raises:
        LoadError: If the engine cannot be loaded.
    """
    started = time.monotonic()
    kind = StdioWorker if target.kind == "command" else Worker
    with kind(
        target,
        load_timeout=options.load_timeout,
        more_time=options.more_time(),
        sandbox=options.sandbox,
        sandbox_root=options.sandbox_root,
    ) as worker:
        worker.start()
        target = replace(target, backward_is_function=worker.backward_is_function)
        worker.target = target
        loaded, load_output = worker.loaded_class, worker.load_output
        results, cause = _each(worker, options)
    if options.only:
        results = [r for r in results if r.name in options.only]
    return SuiteResult(
        target,
        loaded,
        options,
        results,
        time.monotonic() - started,
        load_output,
        placeholders=worker.placeholders,
        skipped_cells=worker.skipped_cells,
        cause=cause,
    )


def _each(worker: Worker, options: Options) -> tuple[list[CheckResult], CheckResult | None]:
    """Every check's result, in catalogue order, and the root cause if one was found."""
    wanted = closure(options.only) if options.only else None
    passed: set[str] = set()
    results: list[CheckResult] = []
    causes = _Causes(worker, options.tolerance)
    for check in CATALOGUE:
        if wanted is not None and check.name not in wanted:
            continue
        unrun = _not_run(check, worker, options, passed=passed, results=results, causes=causes)
        if unrun is not None:
            results.append(unrun)
            continue
        usable = passed if check.kind == "op" else passed - _shared_code(results)
        try:
            result = run_check(check, worker, options, usable)
        except LoadError as exc:
            result = CheckResult(
                check.name, check.op, "error", f"restarting the engine failed: {exc}"
            )
        if (
            check.name in _CHAINS
            and result.status == "error"
            and "RecursionError" in result.message
        ):
            result.message = _recursion_depth(worker, options) or result.message
        if result.status == "passed":
            passed.add(check.name)
        elif check.kind == "graph" and result.status in _FAULTS:
            broken = sorted(r.name for r in results if r.name in _OP_NAMES and r.status in _FAULTS)
            if broken:
                result.message += (
                    f" (fix {', '.join(broken[:3])}{' …' if len(broken) > 3 else ''} first: "
                    "the ops used here may share their code)"
                )
        results.append(result)
        if causes.add(check, result):
            results = [causes.not_graded(r.name, r.op) if causes.shares(r) else r for r in results]
    if worker.target.nn is not None and (not options.only or "nn_mlp" in options.only):
        results.append(_run_nn(worker, options))
    return results, causes.found


def _not_run(
    check: Check,
    worker: Worker,
    options: Options,
    *,
    passed: Collection[str],
    results: list[CheckResult],
    causes: _Causes,
) -> CheckResult | None:
    """The result of a check that need not run (its op is missing, a root cause), or None."""
    absent = _absent_op(check, results)
    if absent is not None:  # tanh_edge of an engine without tanh: as missing as tanh
        return CheckResult(check.name, check.op, "unsupported", absent.message)
    if causes.found is None:
        return None
    missing = _missing_method(check, worker, passed)
    if missing is None:
        return causes.not_graded(check.name, check.op)
    # an op the class does not have is missing whatever backward() does
    status = "failed" if check.name in options.require else "unsupported"
    return CheckResult(check.name, check.op, status, f"{worker.target.class_name} has no {missing}")


def _absent_op(check: Check, results: list[CheckResult]) -> CheckResult | None:
    """The unsupported result of the one op an edge check tries at extremes, or None."""
    if check.kind != "edge" or len(check.depends) != 1:
        return None
    return next((r for r in results if r.name in check.depends and r.status == "unsupported"), None)


def _missing_method(check: Check, worker: Worker, passed: Collection[str]) -> str | None:
    """The method an op check's probe calls that the class lacks, or None (graph checks too)."""
    first = first_cases(check, passed) if check.kind == "op" else []
    if not first or worker.methods is None:
        return None
    needed = (method_for(instruction) for instruction in first[0]["ops"])
    return next((name for name in needed if name not in worker.methods), None)


def _recursion_depth(worker: Worker, options: Options) -> str | None:
    """How deep a chain ``a + b + b …`` backpropagates before RecursionError, found by halving."""
    low, high = 1, EDGE_CHAIN_DEPTH  # low passes (a chain of one), high fails
    while high - low > max(10, low // 20):
        middle = (low + high) // 2
        try:
            (got,), _ = worker.request([chain(0.5, 0.25, middle, 0)], options.timeout)
        except (WorkerTimeout, WorkerCrashed, LoadError):
            return None
        if "RecursionError" in got.get("error", ""):
            high = middle
        else:
            low = middle
    return (
        f"backward() raises RecursionError on chains longer than about {low} nodes: a "
        "recursive topological sort needs one Python frame per node, and Python allows about "
        "1000. Build the order with a loop and a stack instead"
    )


def _shared_code(results: list[CheckResult]) -> set[str]:
    """Op checks not to build graphs from: those sharing a rule with an op check that failed.

    A student's ``a * 2`` runs the same ``__mul__`` as ``a * b``; once one form
    is wrong, a graph built from another would blame ``backward()`` for it.
    """
    rules = {check.name: check.rule for check in CATALOGUE if check.kind == "op"}
    broken = {
        rules[r.name]
        for r in results
        if r.name in rules
        and r.status in _FAULTS
        # a form that is not there at all (failed only by --require) breaks no shared code
        and not (r.got is not None and r.program is not None and _absent(r.got, r.program))
    }
    return {name for name, rule in rules.items() if rule in broken}


class _Causes:
    """Watches the first checks for one fault that breaks them all: the root cause.

    When the op checks graded so far, across :data:`_CAUSE_RULES` different
    rules and with none passed, all fail the same way (backward() hangs,
    changes no gradient, or raises the same exception), that fault is reported
    once and every check it breaks is not graded. A walk of the graph whose
    numbers name the fault (no ``visited`` set, leaves first) is backward()'s
    whatever the op: diagnosed in checks of :data:`_WALK_RULES` rules, it is the
    root cause even while other checks pass.
    """

    def __init__(self, worker: Worker, tolerance: Tolerance) -> None:
        self.worker = worker
        self.tolerance = tolerance
        self.found: CheckResult | None = None
        self.short = ""
        self.seen: list[tuple[str, str]] = []  # (rule, signature) of op checks graded so far
        self.first: dict[str, CheckResult] = {}  # the first result of each signature
        self.seed: CheckResult | None = None
        self.kind = ""
        """The signature of the root cause, once found."""

    def signature(self, result: CheckResult) -> str | None:
        """How a check's failure looks from outside: ``hang``, ``unchanged`` or ``raises T``."""
        got = result.got or {}
        if result.status == "timeout":
            return "hang"
        if result.status == "error" and got.get("phase") == "backward":
            return f"raises {got['exc_type']}"
        if result.status == "error" and got.get("phase") == "read":
            return f"cannot be read: {got['error']}"
        if result.finding == "walk":  # named from the numbers: it says more than "unchanged"
            return f"walk: {result.diagnosis}"
        before = got.get("grads_before")
        if result.status == "failed" and before and before == got.get("grads"):
            return "unchanged"
        return None

    def shares(self, result: CheckResult) -> bool:
        """Whether ``result`` failed in the way of the root cause.

        Once the walk is known to be backward()'s, it also accounts for any
        failure whose values were right and gradients wrong: such a failure
        may be the walk's alone (the student's ``a - b`` is ``a + (-b)``, a
        graph the reference's cannot replay), so it is graded after the fix.
        """
        if result.name == "root_seed" or self.signature(result) == self.kind:
            return True
        got, want = result.got or {}, result.want or {}
        return (
            self.kind.startswith("walk")
            and result.status == "failed"
            and "data" in got
            and "data" in want
            and all(
                self.tolerance.close(g, w) for g, w in zip(got["data"], want["data"], strict=True)
            )
        )

    def add(self, check: Check, result: CheckResult) -> bool:
        """Note one check's result; True when it completes the evidence of a root cause."""
        if check.name == "root_seed":
            self.seed = result
            return False
        if check.kind != "op" or result.status == "unsupported":
            return False
        self.seen.append((check.rule or check.name, self.signature(result) or "passed"))
        self.first.setdefault(self.seen[-1][1], result)
        signatures = {signature for _, signature in self.seen}
        rules = {rule for rule, _ in self.seen}
        walked = {rule for rule, signature in self.seen if signature == self.seen[-1][1]}
        if self.seen[-1][1].startswith("walk") and len(walked) >= _WALK_RULES:
            self.kind = self.seen[-1][1]  # the walk is backward()'s, whatever the ops
        elif len(signatures) != 1 or len(rules) < _CAUSE_RULES or "passed" in signatures:
            return False
        else:
            (self.kind,) = signatures
        self.found = self._describe(self.first[self.kind])
        return True

    def _describe(self, example: CheckResult) -> CheckResult:
        seed = self.seed
        takes = "requires_grad" in self.worker.init_parameters and not any(
            key == "requires_grad" for key, _ in self.worker.target.leaf_kwargs
        )
        hint = (
            f"Your {self.worker.target.class_name} takes requires_grad: if leaves need it, "
            "rerun with --leaf-kwargs requires_grad=True"
        )
        if self.kind == "hang":
            self.short = "backward() hangs"
            what = "backward() never returns: every check so far hangs on its first, smallest graph"
        elif self.kind == "unchanged":
            if takes:  # the likelier reading: leaves made without it are constants
                self.short = "no leaf got a gradient"
                what = (
                    "backward() changed no gradient: every leaf's grad is what it was before. "
                    + hint
                )
            elif seed is not None and seed.status != "passed":
                self.short = "backward() does not seed the root's grad"
                what = (
                    "backward() does not set the root's grad to 1: after a.backward() on a lone "
                    "leaf a.grad stays as it was, so every gradient stays 0. Start backward() "
                    "with self.grad = 1"
                )
                example = seed
            else:
                self.short = "backward() changes no gradient"
                what = "backward() changed no gradient: every leaf's grad is what it was before"
        elif self.kind.startswith("cannot be read"):
            self.short = "the grader cannot read .data or .grad"
            error = (example.got or {}).get("error", example.message)
            held = re.search(r"it holds (\w+)", error)
            what = (
                f"every check fails reading the numbers: {error}. The grader reads "
                "v.data and v.grad: if yours are named otherwise, add for example "
                f"`data = property(lambda self: self.{held.group(1) if held else 'value'})` "
                "to the class"
            )
        elif self.kind.startswith("walk"):
            self.short = "backward() walks the graph wrongly"
            what = f"backward() walks the graph wrongly, whatever the ops: {example.message}"
        else:
            self.short = f"backward() {self.kind}"
            what = f"backward() {self.kind} on every graph: {example.message}"
            if takes:  # a PyTorch-like engine refusing leaves that do not require grad
                what += f". {hint}"
        return replace(example, name="backward", op="backward()", message=what)

    def not_graded(self, name: str, op: str) -> CheckResult:
        """The result of a check that the root cause breaks."""
        return CheckResult(name, op, "not_graded", f"{self.short} (see above)")


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
        if result.status == "unsupported" and "nn_mlp" in options.require:
            result.status = "failed"  # the teacher asks for the lecture's MLP
        result.cases = len(nets)
        if failing is not None:
            line = worker.target.nn.import_line()
            call = next((str(r.get("call", "")) for r in results if "outputs" in r), "")
            result.reproducer = nn_check.reproducer(line, failing, layout, call=call)
    result.seconds = time.monotonic() - started
    return result
