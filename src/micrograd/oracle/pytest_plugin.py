"""The oracle as a pytest plugin: ``pytest --micrograd-impl=engine.py`` runs one test per check.

Registered through the ``pytest11`` entry point, so it is loaded by every
pytest run where micrograd-ref is installed; it stays inert (adds no test,
imports nothing heavy) unless ``--micrograd-impl`` is given. The engine is
collected like a file of tests (``engine.py::tanh``): where pytest meets its
file, or else after the other tests. pytest never imports it; the engine runs
in the oracle's own processes only.
"""

from __future__ import annotations

import argparse
import os
import shlex
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from micrograd.oracle.assignment import Assignment
    from micrograd.oracle.runner import Target
    from micrograd.oracle.suite import CheckResult, Options, SuiteResult

__all__ = ["OracleEngine", "OracleItem"]


@dataclass
class _Run:
    """The configured run and, once the first test asked, its results."""

    target: Target
    options: Options
    suite: SuiteResult | None = None
    load_error: str = ""
    results: dict[str, CheckResult] = field(default_factory=dict)
    collected: bool = False
    """Whether pytest collected the engine's file itself (in a folder it walked, or named)."""
    warning: str = ""
    """What is wrong with the install that does not stop the run (Karpathy's package beside)."""
    assignment: Assignment | None = None
    """The assignment file's settings and points, with ``--micrograd-assignment``."""

    @property
    def path(self) -> Path | None:
        """The engine's file (a notebook's ``.ipynb``), or None for a module name."""
        if self.target.kind == "module":
            return None
        return Path(self.target.notebook_path or self.target.location)

    def load(self) -> None:
        """Load the engine in a process of its own and stop it, so that a load error is one error.

        Raises:
            LoadError: If the engine cannot be loaded.
        """
        from micrograd.oracle.runner import LoadError, Worker  # noqa: PLC0415 - lazy, see above

        options = self.options
        try:
            with Worker(
                self.target,
                load_timeout=options.load_timeout,
                more_time=options.more_time(),
                sandbox=options.sandbox,
            ) as worker:
                worker.start()
        except LoadError as exc:
            self.load_error = str(exc)  # for the score: no run
            raise

    def result(self, name: str) -> CheckResult | None:
        """The result of check ``name``, running the whole suite on first use (None: not loaded)."""
        from micrograd.oracle.runner import LoadError  # noqa: PLC0415 - lazy, see module docstring
        from micrograd.oracle.suite import run_suite  # noqa: PLC0415 - lazy, see module docstring

        if self.suite is None and not self.load_error:
            try:
                self.suite = run_suite(self.target, self.options)
            except LoadError as exc:
                self.load_error = str(exc)
                return None
            self.results = {r.name: r for r in self.suite.checks}
        return self.results.get(name)


_RUN = pytest.StashKey[_Run]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``--micrograd-…`` options."""
    group = parser.getgroup("micrograd", "micrograd-ref grading oracle")
    group.addoption(
        "--micrograd-impl",
        dest="micrograd_impl",
        metavar="TARGET",
        help="check this micrograd engine (engine.py, engine.py:Value or a.module) "
        "against the reference, one test per op and property",
    )
    group.addoption(
        "--micrograd-assignment",
        dest="micrograd_assignment",
        metavar="FILE",
        help="the course's assignment file: its seed, cases, limits and conventions "
        "(as check --assignment), so this run draws the cases the grading does",
    )
    group.addoption("--micrograd-seed", dest="micrograd_seed", default="0", metavar="N")
    group.addoption(
        "--micrograd-max-examples", dest="micrograd_max_examples", default="100", metavar="N"
    )
    group.addoption("--micrograd-timeout", dest="micrograd_timeout", default="5", metavar="SECONDS")
    group.addoption(
        "--micrograd-require",
        dest="micrograd_require",
        default="",
        metavar="CHECK,...",
        help="checks that fail, instead of being skipped, when the op is absent",
    )
    group.addoption(
        "--micrograd-strict",
        dest="micrograd_strict",
        action="store_true",
        help="count the edge group (extreme inputs, backward twice, deep chains)",
    )
    group.addoption(
        "--micrograd-nn",
        dest="micrograd_nn",
        metavar="TARGET",
        help="also check this nn module's MLP (nn.py or nn.py:MLP) against the reference's",
    )
    group.addoption(
        "--micrograd-backward",
        dest="micrograd_backward",
        default="backward",
        metavar="NAME",
        help="the method that backpropagates (default: backward), or a function of the "
        "engine's module called with the root, e.g. backprop or back_prop",
    )
    group.addoption(
        "--micrograd-sandbox",
        dest="micrograd_sandbox",
        default="auto",
        metavar="auto|yes|no",
        help="run the engine in a bubblewrap sandbox (Linux): auto (default) when bwrap works, "
        "yes (its absence is an error) or no",
    )
    group.addoption(
        "--micrograd-leaf-kwargs",
        dest="micrograd_leaf_kwargs",
        default="",
        metavar="KEY=VALUE,...",
        help="keyword arguments every leaf is made with, e.g. requires_grad=True",
    )


def _number(config: pytest.Config, option: str, kind: type[float], least: float) -> Any:  # noqa: ANN401 - int or float
    text = config.getoption(option)
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or value < least:
        flag = "--" + option.replace("_", "-")
        raise pytest.UsageError(f"{flag}: expected a number of at least {least}, got {text!r}")
    return value


def _conventions(config: pytest.Config) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """``--micrograd-backward`` and ``--micrograd-leaf-kwargs``, read as ``check`` reads them."""
    # check's own parser of --leaf-kwargs, so that both accept the same text
    from micrograd.oracle.cli import _keywords  # noqa: PLC0415 - lazy, see module docstring

    backward = config.getoption("micrograd_backward")
    if not backward.isidentifier():
        raise pytest.UsageError(f"--micrograd-backward: expected a name, got {backward!r}")
    try:
        leaf_kwargs = _keywords(config.getoption("micrograd_leaf_kwargs"))
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"--micrograd-leaf-kwargs: {exc}") from exc
    return backward, leaf_kwargs


_SANDBOX_CHOICES = {"auto": None, "yes": True, "no": False}


def _sandbox(config: pytest.Config) -> bool:
    """``--micrograd-sandbox``: whether the engine runs in the sandbox."""
    from micrograd.oracle.targets import sandbox  # noqa: PLC0415 - lazy, see module docstring

    text = config.getoption("micrograd_sandbox")
    if text not in _SANDBOX_CHOICES:
        raise pytest.UsageError(f"--micrograd-sandbox: expected auto, yes or no, got {text!r}")
    try:
        return sandbox.choose(_SANDBOX_CHOICES[text])
    except sandbox.SandboxUnavailable as exc:
        raise pytest.UsageError(f"--micrograd-sandbox=yes: {exc}") from exc


def pytest_configure(config: pytest.Config) -> None:
    """Validate the options where they come in; do nothing without ``--micrograd-impl``."""
    impl = config.getoption("micrograd_impl")
    if not impl:
        return
    # Before importing the reference engine: mixed with Karpathy's package, it may be his.
    from micrograd import install_check  # noqa: PLC0415 - lazy, see module docstring

    finding = install_check.check()
    if finding is not None and finding.fatal:
        raise pytest.UsageError(f"--micrograd-impl: {finding.message}")
    from micrograd.oracle.checks import CATALOGUE  # noqa: PLC0415 - lazy, see module docstring
    from micrograd.oracle.runner import LoadError, build_target  # noqa: PLC0415
    from micrograd.oracle.suite import Options  # noqa: PLC0415 - lazy, see module docstring

    backward, leaf_kwargs = _conventions(config)
    try:
        target = build_target(
            impl, config.getoption("micrograd_nn"), backward=backward, leaf_kwargs=leaf_kwargs
        )
    except LoadError as exc:
        flag = "--micrograd-nn" if exc.part == "nn" else "--micrograd-impl"
        raise pytest.UsageError(f"{flag}: {exc}") from exc
    require = frozenset(
        n.strip() for n in config.getoption("micrograd_require").split(",") if n.strip()
    )
    unknown = sorted(require - {c.name for c in CATALOGUE})
    if unknown:
        raise pytest.UsageError(f"--micrograd-require: no check named {', '.join(unknown)}")
    options = Options(
        sandbox=_sandbox(config),
        seed=_number(config, "micrograd_seed", int, -(2**63)),
        max_examples=_number(config, "micrograd_max_examples", int, 1),
        timeout=_number(config, "micrograd_timeout", float, 0.001),
        require=require,
        strict=bool(config.getoption("micrograd_strict")),
        timeout_option="--micrograd-timeout",
    )
    path = config.getoption("micrograd_assignment")
    chosen = None
    if path:
        target, options, chosen = _from_assignment(config, Path(path), target, options)
    warning = "" if finding is None else finding.message
    config.stash[_RUN] = _Run(target, options, warning=warning, assignment=chosen)


_SET_BY_FILE = {  # option: its default, which the assignment file's value replaces
    "micrograd_seed": "0",
    "micrograd_max_examples": "100",
    "micrograd_timeout": "5",
    "micrograd_strict": False,
    "micrograd_backward": "backward",
    "micrograd_leaf_kwargs": "",
}


def _from_assignment(
    config: pytest.Config, path: Path, target: Target, options: Options
) -> tuple[Target, Options, Assignment]:
    """The run as the assignment file at ``path`` sets it, and the file's assignment.

    Its settings given on the command line too are a usage error.
    """
    from micrograd.oracle import assignment  # noqa: PLC0415 - lazy, see module docstring

    given = [o for o, default in _SET_BY_FILE.items() if config.getoption(o) != default]
    if given:
        flags = ", ".join("--" + o.replace("_", "-") for o in given)
        raise pytest.UsageError(f"{flags}: set by the assignment file {path}; leave it out")
    try:
        chosen = assignment.load(path)
    except assignment.AssignmentError as exc:
        raise pytest.UsageError(f"--micrograd-assignment: {exc}") from exc
    target = replace(target, backward=chosen.backward, leaf_kwargs=chosen.leaf_kwargs)
    options = replace(
        options,
        seed=chosen.seed,
        max_examples=chosen.max_examples,
        timeout=chosen.timeout,
        strict=chosen.edge,
        assignment=str(path),
    )
    return target, options, chosen


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """The engine under test and the exact flags that reproduce this run."""
    run = config.stash.get(_RUN, None)
    if run is None:
        return None
    from micrograd.oracle.formats.text import sandbox_line  # noqa: PLC0415 - lazy, see above

    target = run.target
    flags = [f"--micrograd-impl={target.spec}"]
    if run.options.assignment:
        flags.append(f"--micrograd-assignment={run.options.assignment}")
    else:
        flags += [
            f"--micrograd-seed={run.options.seed}",
            f"--micrograd-max-examples={run.options.max_examples}",
            f"--micrograd-timeout={run.options.timeout:g}",
        ]
    if run.options.require:
        flags.append(f"--micrograd-require={','.join(sorted(run.options.require))}")
    if run.options.strict and not run.options.assignment:
        flags.append("--micrograd-strict")
    if target.backward != "backward" and not run.options.assignment:
        flags.append(f"--micrograd-backward={target.backward}")
    if target.leaf_kwargs and not run.options.assignment:
        pairs = ",".join(f"{key}={value!r}" for key, value in target.leaf_kwargs)
        flags.append(f"--micrograd-leaf-kwargs={pairs}")
    if target.nn is not None:
        flags.append(f"--micrograd-nn={target.nn.spec}")
    if not run.options.sandbox and config.getoption("micrograd_sandbox") == "no":
        flags.append("--micrograd-sandbox=no")
    lines = [
        f"micrograd-ref oracle: checking {target.spec}",
        sandbox_line(run.options.sandbox),
        f"reproduce with: {shlex.join(['pytest', *flags])}",
    ]
    if run.warning:
        lines.append(f"micrograd-ref: warning: {run.warning}")
    return lines


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """The score by the assignment file, and what skipped checks cost: skipped is not passed."""
    run = config.stash.get(_RUN, None)
    if run is None or (run.suite is None and not run.load_error):
        return  # nothing of the engine ran: collection only, or every check deselected
    lines = _score_lines(run)
    if lines:
        terminalreporter.write_sep("-", "micrograd-ref score")
        for line in lines:
            terminalreporter.write_line(line)


def _score_lines(run: _Run) -> list[str]:
    """The score and the points lost to missing ops (with an assignment), else the missing ops."""
    from micrograd.oracle import scoring  # noqa: PLC0415 - lazy, see module docstring
    from micrograd.oracle.report import plural  # noqa: PLC0415 - lazy, see module docstring

    if run.assignment is None:
        missing = (
            []
            if run.suite is None
            else [c.name for c in run.suite.counted() if c.status == "unsupported"]
        )
        if not missing:
            return []
        return [
            f"skipped, not passed: {plural(len(missing), 'check')} of ops your engine does "
            f"not have ({', '.join(missing)}), worth 0 points when graded"
        ]
    graded = scoring.grade(run.assignment, run.suite, error=run.load_error)
    line = f"score: {graded.score:g} of {graded.max_score:g} points ({run.options.assignment})"
    if run.suite is None:
        return [line + ": the engine could not be loaded"]
    lines = [line]
    lost = [s for s in graded.scores if s.status == "unsupported"]
    if lost:
        points = sum(s.max_points for s in lost)
        names = ", ".join(s.name for s in lost)
        lines.append(f"{points:g} points lost to ops your engine does not have: {names}")
    unrun = [s for s in graded.scores if s.status == "not_run"]
    if unrun:
        lines.append(
            f"{plural(len(unrun), 'counted check')} did not run here (-k, -m, node ids or no "
            f"--micrograd-nn), so 0 points: {', '.join(s.name for s in unrun)}"
        )
    return lines


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(
    file_path: Path, parent: pytest.Collector
) -> Generator[None, list[pytest.Collector], list[pytest.Collector]]:
    """The engine's file, wherever pytest meets it, holds the oracle's tests (never imported)."""
    collectors = yield
    run = parent.config.stash.get(_RUN, None)
    if run is None or run.path is None or file_path.resolve() != run.path:
        return collectors
    return [OracleEngine.from_parent(parent, name=file_path.name, path=file_path)]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Collect the engine's tests, if pytest did not meet its file (before ``-k`` selects)."""
    run = config.stash.get(_RUN, None)
    if run is None or run.collected:
        return
    path = run.path
    name = run.target.location if path is None else path.name
    engine = OracleEngine.from_parent(session, name=name, path=path)
    # genitems reports the collection (counts, a load error) as for any collected file.
    items.extend(session.genitems(engine))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Run only the checks that ``-k``/``-m``/node ids kept (and the checks they depend on)."""
    run = session.config.stash.get(_RUN, None)
    if run is None:
        return

    kept = {item.name for item in session.items if isinstance(item, OracleItem)}
    run.options = replace(run.options, only=frozenset(kept))  # run_suite adds what they need


class OracleEngine(pytest.Collector):
    """The student's engine as a collector of one test per check: ``engine.py::tanh``.

    Collecting it loads the engine once, so that an engine that cannot load is
    one collection error.
    """

    def __init__(self, *, name: str, path: Path | None, **kwargs: Any) -> None:  # noqa: ANN401 - from_parent's
        nodeid = _node_id(kwargs["parent"], name, path)
        super().__init__(name=name, path=path, nodeid=nodeid, **kwargs)

    def collect(self) -> list[OracleItem]:
        """One test per check, once the engine has loaded."""
        from micrograd.oracle.checks import CATALOGUE  # noqa: PLC0415 - lazy, see module docstring

        run = self.config.stash[_RUN]
        run.collected = True  # pytest collects a file it met only if its args selected it
        run.load()
        names = [check.name for check in CATALOGUE]
        if run.target.nn is not None:
            names.append("nn_mlp")
        return [OracleItem.from_parent(self, name=name) for name in names]

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,  # noqa: ANN401 - pytest types it with a private Literal
    ) -> str:
        """The load error and where the engine raised it, without a traceback of the grader."""
        from micrograd.oracle.runner import LoadError  # noqa: PLC0415 - lazy, see module docstring

        exc = excinfo.value
        if not isinstance(exc, LoadError):  # pragma: no cover - a bug of ours
            return str(super().repr_failure(excinfo))
        text = f"could not load the engine: {exc}"
        if exc.trace.strip():
            text += "\nwhere your code raised it:\n" + exc.trace.rstrip()
        if exc.output.strip():
            lines = exc.output.strip().splitlines()[-20:]
            text += "\nit printed:\n" + "\n".join("    " + line for line in lines)
        return text


def _node_id(parent: pytest.Collector, name: str, path: Path | None) -> str:
    """The engine file's path from the rootdir (``engine.py``, ``../hw/engine.py``), or the module.

    pytest shows node ids from the folder it runs in.
    """
    if path is None:
        return name
    return Path(os.path.relpath(path.resolve(), parent.config.rootpath.resolve())).as_posix()


class OracleFailure(Exception):
    """A check that did not pass; its text is the report's message and reproducer."""


class OracleItem(pytest.Item):
    """One check of the oracle as a pytest test; its name is the check's."""

    def runtest(self) -> None:
        """Pass, skip (unsupported op) or fail with the reproducer."""
        from micrograd.oracle import report  # noqa: PLC0415 - lazy, see module docstring

        run = self.config.stash[_RUN]
        result = run.result(self.name)
        if result is None:
            raise OracleFailure(f"could not load the engine: {run.load_error}")
        if result.status == "passed":
            return
        assert run.suite is not None  # run.result() set it
        cause = run.suite.cause
        if result.status == "not_graded" and cause is not None:
            code = report.reproducer(run.suite, cause)
            raise OracleFailure("\n\n".join(filter(None, [f"root cause: {cause.message}", code])))
        if result.status in ("unsupported", "not_graded"):
            pytest.skip(f"{result.status.replace('_', ' ')}: {result.message}")
        if result not in run.suite.counted():
            pytest.xfail(f"edge input, counted only with --micrograd-strict: {result.message}")
        text = f"{result.status}: {result.message}"
        raise OracleFailure("\n\n".join(filter(None, [text, report.reproducer(run.suite, result)])))

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,  # noqa: ANN401 - pytest types it with a private Literal
    ) -> str:
        """The message and reproducer, without a traceback of the grader."""
        if isinstance(excinfo.value, OracleFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))  # pragma: no cover - a bug of ours

    def reportinfo(self) -> tuple[Any, int | None, str]:
        """Where the test is shown to come from."""
        return self.path, None, self.name
