"""The ``micrograd-ref`` command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import micrograd

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
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``micrograd-ref`` on ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return 0  # pragma: no cover - every command returns from its own branch
