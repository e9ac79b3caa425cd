"""The ``check`` and ``grade`` commands of ``micrograd-ref``.

Hypothesis (the ``oracle`` extra) is imported only when a command runs, so
that ``micrograd-ref --help`` works without it.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from micrograd.oracle.formats import FILE_FORMATS

if TYPE_CHECKING:
    from micrograd.oracle.formats import Renderer
    from micrograd.oracle.suite import Options

__all__ = ["add_parser", "run_check", "run_grade"]

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
    parser.add_argument("--seed", type=int, default=0, help="seeds the cases (default: 0)")
    parser.add_argument(
        "--max-examples",
        type=_positive_int,
        default=100,
        metavar="N",
        help="cases per check besides the first (default: 100)",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_float,
        default=5.0,
        metavar="SECONDS",
        help="per check, shrinking included (default: 5); a check's first case gets 1 s",
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
        default="backward",
        metavar="NAME",
        help="the method that backpropagates (default: backward), or a function of the "
        "engine's module called with the root, e.g. backprop or back_prop",
    )
    parser.add_argument(
        "--leaf-kwargs",
        type=_keywords,
        default=(),
        metavar="KEY=VALUE,...",
        help="keyword arguments every leaf is made with, e.g. requires_grad=True",
    )
    parser.add_argument(
        "--no-torch",
        dest="torch",
        action="store_false",
        help="do not use PyTorch as a second witness even when it is installed",
    )


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``check`` and ``grade`` on the subparsers of ``micrograd-ref``."""
    check = commands.add_parser(
        "check",
        help="check your own micrograd engine against the reference",
        description="Check a micrograd engine (a .py file or a module, optionally "
        ":ClassName) op by op against the reference engine. Exit status: 0 all passed, "
        "1 a check failed, errored or timed out, 2 the engine could not be loaded.",
    )
    check.add_argument("target", metavar="TARGET", help="engine.py, engine.py:Value or a.module")
    check.add_argument(
        "--nn",
        metavar="TARGET",
        help="also check this nn module's MLP (nn.py or nn.py:MLP) against the reference's",
    )
    for file_format in FILE_FORMATS:
        check.add_argument(
            f"--{file_format.name}", type=Path, metavar="FILE", help=file_format.help
        )
    _add_common(check)
    check.set_defaults(func=run_check)

    grade = commands.add_parser(
        "grade",
        help="grade many submissions in parallel (for teachers)",
        description="Run 'check' on every submission: each TARGET is an engine file, or a "
        "folder holding one submission per .py file or per subfolder (with --file in it).",
    )
    grade.add_argument("targets", nargs="+", metavar="TARGET")
    grade.add_argument(
        "--file",
        default="engine.py",
        help="the engine's file name inside each submission folder (default: engine.py)",
    )
    grade.add_argument(
        "--class", dest="class_name", default="Value", help="the class to grade (default: Value)"
    )
    grade.add_argument(
        "--out",
        type=Path,
        default=Path("grading"),
        help="folder for the reports (default: grading)",
    )
    grade.add_argument("--jobs", type=_positive_int, default=2, help="parallel runs (default: 2)")
    grade.add_argument(
        "--nn-file",
        default="",
        metavar="NAME",
        help="the nn module's file name inside each submission folder, e.g. nn.py, for --nn",
    )
    _add_common(grade)
    grade.set_defaults(func=run_grade)


def _options(args: argparse.Namespace) -> Options:
    from micrograd.oracle.checks import CATALOGUE  # noqa: PLC0415 - needs Hypothesis
    from micrograd.oracle.suite import Options  # noqa: PLC0415 - needs Hypothesis

    known = {c.name for c in CATALOGUE} | {"nn_mlp"}
    for flag, names in (("--require", args.require), ("--only", args.only)):
        unknown = sorted(set(names) - known)
        if unknown:
            every = ", ".join(sorted(known))
            raise _UsageError(
                f"{flag}: no check named {', '.join(unknown)}; the checks are {every}"
            )
    return Options(
        seed=args.seed,
        max_examples=args.max_examples,
        timeout=args.timeout,
        require=args.require,
        use_torch=args.torch,
        only=args.only,
        strict=args.strict,
    )


class _UsageError(Exception):
    """A bad option or target: exit status 2 with a one-line message."""


def _write_files(args: argparse.Namespace, render: Callable[[Renderer], str]) -> None:
    """Write every report file asked for, each rendered by ``render`` from its format."""
    for file_format in FILE_FORMATS:
        path: Path | None = getattr(args, file_format.name, None)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(file_format.renderer()), encoding="utf-8")


def run_check(args: argparse.Namespace) -> int:
    """``micrograd-ref check``: print the table, write the reports, return the exit status."""
    try:
        import hypothesis  # noqa: F401, PLC0415 - probe for the oracle extra
    except ImportError:  # pragma: no cover - the test sessions install Hypothesis
        return _fail(
            args, "micrograd-ref check needs Hypothesis: pip install 'micrograd-ref[oracle]'"
        )
    from micrograd.oracle.formats import text  # noqa: PLC0415 - needs Hypothesis
    from micrograd.oracle.runner import LoadError, build_target  # noqa: PLC0415
    from micrograd.oracle.suite import run_suite  # noqa: PLC0415 - needs Hypothesis

    try:
        options = _options(args)
        target = build_target(
            args.target,
            args.nn,
            paths=tuple(args.path),
            backward=args.backward,
            leaf_kwargs=args.leaf_kwargs,
        )
        suite = run_suite(target, options)
    except (_UsageError, LoadError) as exc:
        return _fail(args, str(exc), getattr(exc, "trace", ""), getattr(exc, "output", ""))
    except Exception as exc:  # pragma: no cover - a bug of ours; every file is still written
        failure = f"the grader itself failed: {exc!r}"
        _write_files(args, lambda f: f.render_error(failure))
        raise
    sys.stdout.write(text.render(suite))
    _write_files(args, lambda f: f.render(suite))
    return EXIT_PASSED if suite.passed else EXIT_FAILED


def _fail(args: argparse.Namespace, message: str, trace: str = "", output: str = "") -> int:
    """Report a usage or load error on stderr (with where it was raised), and the report files."""
    sys.stderr.write(f"micrograd-ref: error: {message}\n")
    if trace.strip():
        sys.stderr.write("where your code raised it:\n" + trace.rstrip() + "\n")
    if output.strip():
        lines = output.strip().splitlines()
        sys.stderr.write("it printed:\n" + "\n".join("    " + x for x in lines[-20:]) + "\n")
    _write_files(args, lambda f: f.render_error(message))
    return EXIT_USAGE


def run_grade(args: argparse.Namespace) -> int:
    """``micrograd-ref grade``: check every submission in parallel; print a summary table."""
    from micrograd.oracle.grade import grade  # noqa: PLC0415 - needs Hypothesis

    try:
        _options(args)
    except _UsageError as exc:
        return _fail(args, str(exc))
    return grade(args)
