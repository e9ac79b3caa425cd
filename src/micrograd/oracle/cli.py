"""The ``check`` and ``grade`` commands of ``micrograd-ref``.

Hypothesis (the ``oracle`` extra) is imported only when a command runs, so
that ``micrograd-ref --help`` works without it.
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from micrograd.oracle.formats import FILE_FORMATS

if TYPE_CHECKING:
    from micrograd.oracle.assignment import Assignment
    from micrograd.oracle.scoring import Graded
    from micrograd.oracle.suite import Options

__all__ = [
    "add_parser",
    "run_assignment_init",
    "run_check",
    "run_grade",
    "run_gradescope_autograder",
    "run_vectors",
]

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _keywords(text: str) -> tuple[tuple[str, Any], ...]:
    """``requires_grad=True,name='x'`` as pairs; values are Python literals."""
    pairs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip().isidentifier():
            raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {item!r}")
        try:
            pairs.append((key.strip(), ast.literal_eval(value.strip())))
        except (ValueError, SyntaxError) as exc:
            raise argparse.ArgumentTypeError(
                f"{key.strip()}: {value.strip()!r} is not a Python literal (True, 1.0, 'x')"
            ) from exc
    return tuple(pairs)


def _names(text: str) -> frozenset[str]:
    return frozenset(name.strip() for name in text.split(",") if name.strip())


def _add_common(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``check`` and ``grade``."""
    parser.add_argument(
        "--assignment",
        type=Path,
        metavar="FILE",
        help="the course's assignment file (micrograd-ref assignment init writes one): the "
        "checks that count, their points, the seed, cases and time limits",
    )
    parser.add_argument("--seed", type=int, help="seeds the cases (default: 0)")
    parser.add_argument(
        "--max-examples",
        type=_positive_int,
        metavar="N",
        help="cases per check besides the first (default: 100)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="seconds the engine may take per check (default: 5); a check's first case gets 1 s",
    )
    parser.add_argument(
        "--require",
        type=_names,
        default=frozenset(),
        metavar="CHECK,...",
        help="checks that fail, instead of being reported unsupported, when the op is absent",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        default=None,
        help="count the edge group (extreme inputs, backward twice, deep chains) in the verdict",
    )
    parser.add_argument(
        "--only", type=_names, default=frozenset(), metavar="CHECK,...", help="run only these"
    )
    parser.add_argument(
        "--path",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder to put first on the engine's sys.path (repeatable)",
    )
    parser.add_argument(
        "--backward",
        metavar="NAME",
        help="the method that backpropagates (default: backward), or a function of the "
        "engine's module called with the root, e.g. backprop or back_prop",
    )
    parser.add_argument(
        "--leaf-kwargs",
        type=_keywords,
        metavar="KEY=VALUE,...",
        help="keyword arguments every leaf is made with, e.g. requires_grad=True",
    )
    parser.add_argument(
        "--no-torch",
        dest="torch",
        action="store_false",
        help="do not use PyTorch as a second witness even when it is installed",
    )
    parser.add_argument(
        "--sandbox",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run the engine in a bubblewrap sandbox (Linux): no network, none of your other "
        "files; default: when bwrap works here; --sandbox makes its absence an error",
    )


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``check``, ``grade`` and ``assignment`` on the subparsers of ``micrograd-ref``."""
    check = commands.add_parser(
        "check",
        help="check your own micrograd engine against the reference",
        description="Check a micrograd engine (a .py file or a module, optionally "
        ":ClassName) op by op against the reference engine. Exit status: 0 all passed, "
        "1 a check failed, errored or timed out, 2 the engine could not be loaded.",
    )
    check.add_argument(
        "target", nargs="?", metavar="TARGET", help="engine.py, engine.py:Value or a.module"
    )
    check.add_argument(
        "--cmd",
        metavar="COMMAND",
        help="instead of TARGET: an engine in another language, through its adapter command "
        '(e.g. "node adapter.js"), which speaks JSON lines on stdin and stdout (docs/ports.md)',
    )
    check.add_argument(
        "--nn",
        metavar="TARGET",
        help="also check this nn module's MLP (nn.py or nn.py:MLP) against the reference's "
        "(default, with an assignment that grades one: its [nn] file, found as grade finds it)",
    )
    check.add_argument(  # grade's: the submission has no nn module, and why
        "--nn-missing", metavar="WHY", default="", help=argparse.SUPPRESS
    )
    for file_format in FILE_FORMATS:
        check.add_argument(
            f"--{file_format.name}", type=Path, metavar="FILE", help=file_format.help
        )
    check.add_argument(
        "--sandbox-root",
        default="",
        metavar="PATH",
        help="the only folder or file of the engine's the sandbox shows (grade gives each "
        "submission's; default: the engine's folder and its package's)",
    )
    _add_common(check)
    check.set_defaults(func=run_check)

    grade = commands.add_parser(
        "grade",
        help="grade many submissions in parallel (for teachers)",
        description="Run 'check' on every submission and print a line for each as it "
        "finishes. Each TARGET is an engine file or notebook, or a folder holding one "
        "submission per file or per subfolder. Writes a report per submission and "
        "grades.csv into --out. Exit status: 0 every submission passed with full marks, "
        "1 one did not (it failed, or is incomplete: ops missing), "
        "2 nothing could be graded (a missing target, an --out folder in use).",
    )
    grade.add_argument("targets", nargs="+", metavar="TARGET")
    grade.add_argument(
        "--file",
        default="engine.py",
        metavar="GLOB",
        help="the engine's file in each submission folder, a name or a glob (default: "
        "engine.py, else micrograd/engine.py, else the one file defining the class)",
    )
    grade.add_argument(
        "--class", dest="class_name", default="Value", help="the class to grade (default: Value)"
    )
    grade.add_argument(
        "--out",
        type=Path,
        default=Path("grading"),
        help="a new folder for the reports (default: grading)",
    )
    grade.add_argument(
        "--overwrite",
        action="store_true",
        help="write into --out even if it holds files: the earlier run's reports (those its "
        "summary.json lists), summary.json and grades.csv are deleted first; other files are kept",
    )
    grade.add_argument("--jobs", type=_positive_int, default=2, help="parallel runs (default: 2)")
    grade.add_argument(
        "--nn-file",
        default="",
        metavar="GLOB",
        help="the nn module's file in each submission folder, e.g. nn.py or micrograd/nn.py "
        "(default: the assignment's, else none)",
    )
    for file_format in FILE_FORMATS[1:]:  # the JSON report is always written
        grade.add_argument(
            f"--{file_format.name}",
            action="store_true",
            help=f"also write each submission's {file_format.help} (<name>{file_format.suffix})",
        )
    _add_common(grade)
    grade.set_defaults(func=run_grade)

    assignment = commands.add_parser(
        "assignment",
        help="write an assignment file (for teachers)",
        description="Manage assignment files: what counts, its points, seed and time limits.",
    )
    verbs = assignment.add_subparsers(dest="verb", metavar="VERB", required=True)
    init = verbs.add_parser(
        "init",
        help="write the default assignment file, commented, to edit",
        description="Write the default assignment file: every check of the catalogue at one "
        "point, the edge group reported but not counted.",
    )
    init.add_argument("file", nargs="?", type=Path, default=Path("assignment.toml"), metavar="FILE")
    init.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    init.set_defaults(func=run_assignment_init)

    autograder = commands.add_parser(
        "gradescope-autograder",
        help="write a complete Gradescope autograder zip (for teachers)",
        description="Write a Gradescope autograder: setup.sh, run_autograder, the "
        "assignment file and micrograd-ref itself as a wheel, installed from the zip.",
    )
    autograder.add_argument(
        "--assignment", type=Path, metavar="FILE", help="the assignment (default: the default)"
    )
    autograder.add_argument(
        "-o",
        "--out",
        type=Path,
        default=Path("autograder.zip"),
        metavar="ZIP",
        help="where to write it (default: autograder.zip)",
    )
    autograder.set_defaults(func=run_gradescope_autograder)

    vectors = commands.add_parser(
        "vectors",
        help="write test vectors for an engine in any language",
        description="Write the catalogue's programs with the reference engine's numbers as "
        "JSON (see docs/ports.md): the same version and seed write the same bytes.",
    )
    vectors.add_argument(
        "-o", "--out", type=Path, metavar="FILE", help="where to write them (default: stdout)"
    )
    vectors.add_argument("--seed", type=int, default=0, help="seeds the cases (default: 0)")
    vectors.add_argument(
        "--max-examples",
        type=_positive_int,
        default=20,
        metavar="N",
        help="cases drawn per check besides its first ones (default: 20)",
    )
    vectors.set_defaults(func=run_vectors)


_SETTABLE = {  # option: (Assignment field, default when neither the file nor the option says)
    "seed": "seed",
    "max_examples": "max_examples",
    "timeout": "timeout",
    "strict": "edge",
    "backward": "backward",
    "leaf_kwargs": "leaf_kwargs",
}


def _settings(args: argparse.Namespace) -> tuple[Assignment, Options]:
    """The assignment (the file's, or the default) and the run's options, from ``args``.

    With ``--assignment``, the file decides what it can: giving one of its
    settings on the command line too is a usage error, so that a student's
    self-check and the teacher's grading cannot quietly differ. ``args`` gets
    the resolved values of those settings.
    """
    from micrograd.oracle import assignment as files  # noqa: PLC0415 - needs Hypothesis
    from micrograd.oracle.checks import CATALOGUE  # noqa: PLC0415 - needs Hypothesis
    from micrograd.oracle.suite import Options  # noqa: PLC0415 - needs Hypothesis

    known = {c.name for c in CATALOGUE} | {files.NN_CHECK}
    for flag, names in (("--require", args.require), ("--only", args.only)):
        unknown = sorted(set(names) - known)
        if unknown:
            every = ", ".join(sorted(known))
            raise _UsageError(
                f"{flag}: no check named {', '.join(unknown)}; the checks are {every}"
            )
    if args.assignment is None:
        chosen = files.Assignment.default()
        if getattr(args, "nn", None):  # check --nn: the network counts, as a check of its own
            chosen = replace(chosen, points={**chosen.points, files.NN_CHECK: 1.0})
    else:
        try:
            chosen = files.load(args.assignment)
        except files.AssignmentError as exc:
            raise _UsageError(str(exc)) from exc
        given = [option for option in _SETTABLE if getattr(args, option) is not None]
        if given:
            flags = ", ".join("--" + option.replace("_", "-") for option in given)
            raise _UsageError(
                f"{flags}: set by the assignment file {args.assignment}; leave it out, or "
                "change the file"
            )
    changes = {
        field: getattr(args, option)
        for option, field in _SETTABLE.items()
        if getattr(args, option) is not None
    }
    chosen = replace(chosen, **changes)
    for option, field in _SETTABLE.items():
        setattr(args, option, getattr(chosen, field))
    options = Options(
        sandbox=use_sandbox(args.sandbox),
        sandbox_root=getattr(args, "sandbox_root", ""),
        seed=chosen.seed,
        max_examples=chosen.max_examples,
        timeout=chosen.timeout,
        require=args.require,
        use_torch=args.torch,
        only=args.only,
        strict=chosen.edge,
        assignment="" if args.assignment is None else str(args.assignment),
    )
    return chosen, options


class _UsageError(Exception):
    """A bad option or target: exit status 2 with a one-line message."""


def use_sandbox(asked: bool | None) -> bool:
    """:func:`micrograd.oracle.targets.sandbox.choose`, its error a usage error of ``--sandbox``.

    Raises:
        _UsageError: If ``--sandbox`` was given and bubblewrap cannot run here.
    """
    from micrograd.oracle.targets import sandbox  # noqa: PLC0415 - only when a command runs

    try:
        return sandbox.choose(asked)
    except sandbox.SandboxUnavailable as exc:
        raise _UsageError(f"--sandbox: {exc}") from exc


def _write_files(args: argparse.Namespace, graded: Graded) -> None:
    """Write every report file asked for (``--json FILE`` …), each in its format."""
    for file_format in FILE_FORMATS:
        path: Path | None = getattr(args, file_format.name, None)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(file_format.renderer().render(graded), encoding="utf-8")


def run_check(args: argparse.Namespace) -> int:
    """``micrograd-ref check``: print the table, write the reports, return the exit status."""
    try:
        import hypothesis  # noqa: F401, PLC0415 - probe for the oracle extra
    except ImportError:  # pragma: no cover - the test sessions install Hypothesis
        sys.stderr.write(
            "micrograd-ref: error: check needs Hypothesis: pip install 'micrograd-ref[oracle]'\n"
        )
        return EXIT_USAGE
    from micrograd.oracle import scoring  # noqa: PLC0415 - needs Hypothesis
    from micrograd.oracle.assignment import NN_CHECK  # noqa: PLC0415 - needs Hypothesis
    from micrograd.oracle.formats import text  # noqa: PLC0415 - needs Hypothesis
    from micrograd.oracle.runner import LoadError, build_target  # noqa: PLC0415
    from micrograd.oracle.suite import run_suite  # noqa: PLC0415 - needs Hypothesis
    from micrograd.oracle.targets.stdio import command_target  # noqa: PLC0415 - needs Hypothesis

    try:
        chosen, options = _settings(args)
        command = _port_command(args, chosen)
    except _UsageError as exc:
        return _fail(str(exc))
    started = time.monotonic()
    nn, missing = args.nn, args.nn_missing
    if nn is None and not missing and chosen.nn_file:  # the assignment grades a network
        nn, missing = _nn_in_submission(args.target, chosen.nn_file)
    not_run = {NN_CHECK: missing} if missing else None
    try:
        if command is not None:
            target = command_target(command)
        else:
            target = build_target(
                args.target,
                nn,
                paths=tuple(args.path),
                backward=args.backward,
                leaf_kwargs=args.leaf_kwargs,
            )
        suite = run_suite(target, options)
    except LoadError as exc:
        seconds = time.monotonic() - started
        graded = scoring.grade(chosen, None, str(exc), seconds, not_run, sandboxed=options.sandbox)
        _write_files(args, graded)
        return _fail(str(exc), exc.trace, exc.output)
    except Exception as exc:  # pragma: no cover - a bug of ours; every file is still written
        why = f"the grader failed: {exc!r}"
        _write_files(args, scoring.grade(chosen, None, why, sandboxed=options.sandbox))
        raise
    graded = scoring.grade(chosen, suite, not_run=not_run)
    sys.stdout.write(text.render(graded))
    _write_files(args, graded)
    return EXIT_PASSED if suite.passed else EXIT_FAILED


def _port_command(args: argparse.Namespace, chosen: Assignment) -> str | None:
    """The adapter command of a port (``--cmd``, or the assignment's), or None for Python.

    Raises:
        _UsageError: If both or neither of a target and a command are given, the
            assignment's adapter is given again, or ``--nn`` comes with a port.
    """
    if args.cmd is not None and chosen.adapter:
        raise _UsageError(
            f"--cmd: set by the assignment file {args.assignment} (adapter); leave it out"
        )
    command: str | None = args.cmd or (chosen.adapter if args.target is None else None)
    if (args.target is None) == (command is None):
        raise _UsageError("give either TARGET (a Python engine) or --cmd COMMAND (a port)")
    if command is not None and args.nn is not None:
        raise _UsageError("--nn checks a Python MLP: it does not go with --cmd")
    return command


def _nn_in_submission(spec: str, pattern: str) -> tuple[str | None, str]:
    """The nn module an assignment grades, found as ``grade`` finds it; or None, and why not.

    It is looked for in the folder ``spec`` names (the Gradescope autograder
    checks ``/autograder/submission``), else beside the engine's file; a
    module name has no folder: ``(None, "")``.
    """
    from micrograd.oracle.targets import find_nn  # noqa: PLC0415 - with its package

    location = spec if os.path.exists(spec) else spec.rpartition(":")[0]
    if not location or not os.path.exists(location):
        return None, ""
    path = Path(location)
    folder, engine = (path, None) if path.is_dir() else (path.parent, path)
    try:
        return f"{find_nn(folder, pattern, engine)}:MLP", ""
    except LookupError as exc:
        return None, str(exc)


def _fail(message: str, trace: str = "", output: str = "") -> int:
    """Report a usage or load error on stderr, with where it was raised and what was printed."""
    sys.stderr.write(f"micrograd-ref: error: {message}\n")
    if trace.strip():
        sys.stderr.write("where your code raised it:\n" + trace.rstrip() + "\n")
    if output.strip():
        lines = output.strip().splitlines()
        sys.stderr.write("it printed:\n" + "\n".join("    " + x for x in lines[-20:]) + "\n")
    return EXIT_USAGE


def run_grade(args: argparse.Namespace) -> int:
    """``micrograd-ref grade``: check every submission in parallel; print a line for each."""
    from micrograd.oracle.grade import GradeError, grade  # noqa: PLC0415 - needs Hypothesis

    try:
        chosen, options = _settings(args)
        args.sandbox = options.sandbox  # each check is told, not left to probe and note again
        return grade(args, chosen)
    except (_UsageError, GradeError) as exc:
        return _fail(str(exc))


def run_gradescope_autograder(args: argparse.Namespace) -> int:
    """``micrograd-ref gradescope-autograder``: write the autograder zip."""
    from micrograd.oracle import assignment as files  # noqa: PLC0415 - needs Hypothesis
    from micrograd.oracle import autograder  # noqa: PLC0415 - needs Hypothesis

    try:
        chosen = (
            files.Assignment.default() if args.assignment is None else files.load(args.assignment)
        )
        names = autograder.build(args.assignment, args.out)
    except (files.AssignmentError, LookupError) as exc:
        return _fail(str(exc))
    sys.stdout.write(
        f"wrote {args.out} ({', '.join(names)}): upload it as the assignment's autograder; "
        f"it grades out of {chosen.max_score:g} points\n"
    )
    return EXIT_PASSED


def run_assignment_init(args: argparse.Namespace) -> int:
    """``micrograd-ref assignment init``: write the commented default assignment file."""
    from micrograd.oracle.assignment import default_text  # noqa: PLC0415 - needs Hypothesis

    path: Path = args.file
    if path.exists() and not args.force:
        return _fail(f"{path} exists; give another name, or --force to overwrite it")
    path.write_text(default_text(), encoding="utf-8")
    sys.stdout.write(f"wrote {path}: every check at one point; edit it, then pass --assignment\n")
    return EXIT_PASSED


def run_vectors(args: argparse.Namespace) -> int:
    """``micrograd-ref vectors``: write the test vectors to ``--out`` or stdout."""
    from micrograd.oracle.vectors import to_json, vectors  # noqa: PLC0415 - needs Hypothesis

    text = to_json(vectors(args.seed, args.max_examples))
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_PASSED
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {args.out} ({len(text.encode()) // 1024} KB)\n")
    return EXIT_PASSED
