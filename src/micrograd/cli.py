"""The ``micrograd-ref`` command line."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

import micrograd
from micrograd import demo
from micrograd.oracle import cli as oracle_cli

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``micrograd-ref``, with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="micrograd-ref",
        description="A reference scalar autograd engine, and a grader for your own.",
    )
    parser.add_argument(
        "--version", action="version", version=f"micrograd-ref {micrograd.__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
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
    return command(args)
