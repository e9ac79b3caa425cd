"""The neural-network API from the user's side, for the type checker only: never executed."""

from __future__ import annotations

import random
from pathlib import Path

from micrograd import Value
from micrograd.data import Dataset, make_circles, make_moons
from micrograd.losses import accuracy, hinge_loss, l2_penalty, max_margin_loss
from micrograd.nn import MLP, Layer, Module, Neuron
from micrograd.optim import SGD, linear_decay
from micrograd.train import Evaluation, StepReport, evaluate, progress, train
from micrograd.viz import (
    plot_decision_boundary,
    plot_points,
    require_plotting,
    save_graph,
    text_decision_boundary,
    to_dot,
)


def readme_nn_example() -> tuple[float, float]:
    """The README's training example: a one-output MLP is called to a Value, trained, evaluated."""
    X, y = make_moons(100, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], "relu", seed=0)
    history: list[StepReport] = train(model, X, y, steps=100, on_step=progress(100, every=10))
    final: Evaluation = evaluate(model, X, y)
    return history[-1].loss, final.accuracy


def shapes(x: list[float]) -> tuple[Value, list[Value], list[Value], Value]:
    """A Neuron and a one-output MLP give a Value; a Layer and MLP.outputs always give a list."""
    return (
        Neuron(2, "tanh", seed=random.Random(1))(x),
        Layer(2, 1)(x),
        MLP(2, [3, 2]).outputs(x),
        MLP(2, [3, 1], output_activation="tanh")([Value(1.0), 2.0]),
    )


def by_hand(model: Module, data: Dataset) -> float:
    """The pieces of a training step, written out, with a momentum optimizer and a schedule."""
    opt = SGD(model.parameters(), lr=linear_decay(50, 0.5, 0.05), momentum=0.9)
    scores = [Value.sum([*p]) for p in data.X]
    loss = hinge_loss(scores, data.y) + l2_penalty(model.parameters(), 1e-4)
    loss = max_margin_loss(scores, data.y, model.parameters())
    opt.zero_grad()
    loss.backward()
    opt.step()
    return opt.lr + accuracy(scores, data.y) + accuracy([s.data for s in scores], data.y)


def pictures(model: MLP, root: Value) -> tuple[str, Path, str]:
    """DOT text, a rendered graph file, the Axes of a plot and a terminal picture."""
    X, y = make_circles(50, 0.05, 1, factor=0.5)
    require_plotting()
    ax = plot_decision_boundary(model, X, y, path="boundary.png")
    ax.set_title("circles")
    plot_points(X, y, ax=ax, title="the same points again").set_xlabel("x")
    return to_dot(root), save_graph(root, "graph.svg"), text_decision_boundary(model, X, y)
