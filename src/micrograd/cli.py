"""The ``micrograd-ref`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, cast

from micrograd.install_check import exit_if_mixed

# At import, not in main(): a mixed install breaks the imports below with a traceback.
exit_if_mixed()

import micrograd
from micrograd import demo
from micrograd.oracle import cli as oracle_cli

__all__ = ["EXIT_INTERRUPTED", "build_parser", "main"]

EXIT_INTERRUPTED = 130
"""The exit status after Ctrl-C, as shells give a process that SIGINT ended (128 + 2)."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: what was wrong, and where to read more."""

    def error(self, message: str) -> NoReturn:
        """Exit with status 2 after printing ``message`` on one line (no usage block)."""
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``micrograd-ref``, with one subparser per command."""
    parser = _Parser(
        prog="micrograd-ref",
        description="A reference scalar autograd engine, and a grader for your own.",
    )
    parser.add_argument(
        "--version", action="version", version=f"micrograd-ref {micrograd.__version__}"
    )
    # Subparsers are _Parser too; the commands' add_parser() only needs an ArgumentParser's API.
    commands = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", metavar="COMMAND"),
    )
    demo.add_parser(commands)
    oracle_cli.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``micrograd-ref`` on ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    # Every command's add_parser() sets func: its handler, returning the exit status.
    command: Callable[[argparse.Namespace], int] = args.func
    try:
        return command(args)
    except KeyboardInterrupt:
        sys.stdout.flush()
        sys.stderr.write("interrupted\n")  # as the demo says it
        return EXIT_INTERRUPTED
