"""The ``micrograd-ref demo`` command: train an MLP on two moons and draw its decision boundary.

The default configuration is the one the ``moons`` regression session pins:
100 moons points with noise 0.1, ``MLP(2, [16, 16, 1])`` with relu hidden
layers and a linear output, the max-margin loss with L2 factor 1e-4, full
batch, 100 SGD steps with the learning rate falling linearly from 1.0 to 0.1,
and seed :data:`DEFAULT_SEED` for both the data and the initial weights.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from micrograd.data import make_moons
from micrograd.nn import ACTIVATIONS, MLP, Activation
from micrograd.train import StepReport, evaluate, progress, train
from micrograd.viz import (
    MissingDependencyError,
    plot_decision_boundary,
    require_plotting,
    text_decision_boundary,
)

__all__ = [
    "DEFAULT_OUT",
    "DEFAULT_SEED",
    "DemoConfig",
    "DemoResult",
    "add_parser",
    "run",
    "run_demo",
]

DEFAULT_SEED = 0
"""The demo's seed: with it the default run reaches 100% training accuracy (from step 30 on)."""

DEFAULT_OUT = Path("boundary.png")
"""Where the picture goes without ``--out`` (git-ignored in a clone of micrograd-ref)."""

_PLOT_SUFFIXES = (".png", ".svg", ".pdf")


class DemoConfig(NamedTuple):
    """Everything that decides a demo run; the defaults are the pinned configuration."""

    seed: int = DEFAULT_SEED
    """Seeds the data and the initial weights."""
    steps: int = 100
    """SGD steps."""
    samples: int = 100
    """Moons points."""
    noise: float = 0.1
    """Standard deviation of the points' Gaussian noise."""
    hidden: tuple[int, ...] = (16, 16)
    """Widths of the hidden layers."""
    activation: Activation = "relu"
    """Activation of the hidden layers."""
    alpha: float = 1e-4
    """L2 regularisation factor."""


class DemoResult(NamedTuple):
    """What a demo run produced."""

    model: MLP
    """The trained model."""
    X: list[tuple[float, float]]
    """The training points."""
    y: list[float]
    """Their ±1 labels."""
    history: list[StepReport]
    """One report per step, before its update."""
    loss: float
    """The loss on all the points after the last update."""
    accuracy: float
    """The accuracy on all the points after the last update."""


def run_demo(
    config: DemoConfig = DemoConfig(),  # noqa: B008 - an immutable NamedTuple
    on_step: Callable[[StepReport], None] | None = None,
) -> DemoResult:
    """Build the data and the model of ``config``, train, and evaluate on the training set.

    Args:
        config: The run's settings.
        on_step: Passed to :func:`micrograd.train.train`, e.g. a progress printer.
    """
    X, y = make_moons(config.samples, config.noise, config.seed)
    model = MLP(2, [*config.hidden, 1], config.activation, seed=config.seed)
    history = train(model, X, y, steps=config.steps, alpha=config.alpha, on_step=on_step)
    final = evaluate(model, X, y, config.alpha)
    return DemoResult(model, X, y, history, final.loss, final.accuracy)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``demo`` command on ``subparsers``, with :func:`run` as its ``func``."""
    defaults = DemoConfig()
    parser = subparsers.add_parser(
        "demo",
        help="train an MLP on two moons and draw its decision boundary",
        # No usage line in errors, so that a bad option gets exactly one line; --help
        # shows it at the top of the description instead.
        usage=argparse.SUPPRESS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "usage: micrograd-ref demo [options]\n\n"
            "Train MLP(2 -> hidden... -> 1) on noisy two-moons points with the max-margin loss\n"
            "and SGD, print the loss and accuracy as it goes, then draw the decision boundary:\n"
            f"a picture ({DEFAULT_OUT}, or --out) when matplotlib is installed, in the terminal\n"
            "otherwise or with --text. Ctrl-C stops it (exit status 130).\n\n"
            f"The defaults are the pinned configuration; seed {DEFAULT_SEED} reaches 100% accuracy."
        ),
    )
    parser.add_argument(
        "--seed", type=_integer(0), default=defaults.seed, help="seed (default: %(default)s)"
    )
    parser.add_argument(
        "--steps", type=_integer(1), default=defaults.steps, help="SGD steps (default: %(default)s)"
    )
    parser.add_argument(
        "--samples",
        type=_integer(2),
        default=defaults.samples,
        help="moons points (default: %(default)s)",
    )
    parser.add_argument(
        "--noise",
        type=_noise,
        default=defaults.noise,
        help="standard deviation of the noise (default: %(default)s)",
    )
    parser.add_argument(
        "--hidden",
        type=_widths,
        default=defaults.hidden,
        metavar="W[,W...]",
        help="hidden layer widths, comma-separated (default: 16,16)",
    )
    parser.add_argument(
        "--activation",
        choices=ACTIVATIONS,
        default=defaults.activation,
        help="hidden layer activation (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        help=f"where to save the decision boundary (.png, .svg or .pdf; needs matplotlib; "
        f"default: {DEFAULT_OUT}, or the terminal without matplotlib)",
    )
    parser.add_argument(
        "--text",
        action="store_true",
        help="draw the decision boundary in the terminal (and the picture too if --out is given)",
    )
    parser.add_argument(
        "--every", type=_integer(1), default=10, help="print every Nth step (default: %(default)s)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo for parsed command-line ``args``; return the exit status.

    Everything that can be known to fail is refused before training: a bad
    ``--out`` suffix, a folder or a place that cannot be written, and an
    explicit ``--out`` (with or without ``--text``) when matplotlib is
    missing. Without ``--out``, a missing matplotlib means the picture is
    drawn in the terminal. Ctrl-C prints ``interrupted`` and exits 130.
    """
    try:
        return _run(args)
    except KeyboardInterrupt:
        sys.stdout.flush()
        print("interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    explicit = args.out is not None
    out: Path = args.out if explicit else DEFAULT_OUT
    if out.suffix.lower() not in _PLOT_SUFFIXES:
        return _fail(f"--out must end in {', '.join(_PLOT_SUFFIXES)}; got {str(out)!r}")
    try:
        require_plotting()
    except MissingDependencyError as exc:
        if explicit:
            return _fail(
                f"--out {str(out)!r} needs matplotlib: pip install 'micrograd-ref[plot]', "
                "or leave out --out to draw in the terminal"
            )
        picture = False
        if not args.text:
            print(f"{exc}; drawing in the terminal instead", file=sys.stderr)
    else:
        picture = explicit or not args.text
    if picture:
        problem = _cannot_write(out)
        if problem:
            return _fail(f"--out: cannot write {str(out)!r}: {problem}")
    config = DemoConfig(
        seed=args.seed,
        steps=args.steps,
        samples=args.samples,
        noise=args.noise,
        hidden=args.hidden,
        activation=args.activation,
    )
    shape = " -> ".join(str(n) for n in (2, *config.hidden, 1))
    print(
        f"Training MLP({shape}, {config.activation}) on {config.samples} moons points "
        f"(noise {config.noise}, seed {config.seed}) for {config.steps} steps"
    )
    print("Each step's loss and accuracy are measured before that step's update.")
    start = time.perf_counter()
    result = run_demo(config, on_step=progress(config.steps, every=args.every))
    seconds = time.perf_counter() - start
    print(
        f"Final, after the last update: loss {result.loss:.4f}, "
        f"training accuracy {100 * result.accuracy:.1f}% ({seconds:.1f} s)"
    )
    if picture:
        try:
            plot_decision_boundary(
                result.model,
                result.X,
                result.y,
                path=out,
                title=f"MLP({shape}) on two moons, accuracy {100 * result.accuracy:.0f}%",
            )
        except OSError as exc:
            return _fail(f"cannot write {str(out)!r}: {exc.strerror or exc}")
        print(f"Decision boundary written to {out}")
    if args.text or not picture:
        color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        print(text_decision_boundary(result.model, result.X, result.y, color=color))
    return 0


def _cannot_write(path: Path) -> str | None:
    """Why a file cannot be written at ``path``, or None; tried for real, leaving nothing behind."""
    if path.is_dir():
        return "it is a folder"
    if not path.parent.is_dir():
        return f"no such folder: {str(path.parent)!r}"
    try:
        if path.exists():
            with path.open("ab"):  # appends nothing: the file is left as it was
                pass
        else:
            with path.open("xb"):
                pass
            path.unlink()
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _fail(message: str) -> int:
    print(f"micrograd-ref demo: error: {message}", file=sys.stderr)
    return 2


def _integer(minimum: int) -> Callable[[str], int]:
    """An argparse ``type``: an int of at least ``minimum``, else a one-line usage error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}; got {value}")
        return value

    return parse


def _noise(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value >= 0.0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number of at least 0; got {text}")
    return value


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated integers like 16,16; got {text!r}"
        ) from None
    if any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"widths must be at least 1; got {text!r}")
    return widths
