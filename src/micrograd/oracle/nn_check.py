"""The ``--nn`` check: a student's MLP, given the reference's parameters, against the reference.

The student's ``MLP(nin, nouts)`` gets the same parameter values as the
reference's ``micrograd.nn.MLP``, matched by ``parameters()`` order (layer by
layer, neuron by neuron, weights then bias: the lecture's order). Students
choose activations differently, so the check tries the common layouts and
reports the one it assumed: the first whose outputs match.
"""

from __future__ import annotations

import random
from typing import Any, Final

from micrograd.engine import Value
from micrograd.nn import MLP, Activation
from micrograd.oracle.compare import Tolerance

__all__ = ["LAYOUTS", "grade_networks", "networks", "reference", "reproducer"]

Network = dict[str, Any]

LAYOUTS: Final[tuple[tuple[Activation, Activation], ...]] = (
    ("relu", "linear"),  # Karpathy's micrograd repository
    ("tanh", "tanh"),  # the lecture's MLP
    ("tanh", "linear"),
    ("relu", "relu"),
    ("sigmoid", "linear"),
    ("sigmoid", "sigmoid"),
    ("tanh", "sigmoid"),
    ("relu", "sigmoid"),
)
"""(hidden, output) activations tried, in this order."""

_SHAPES: Final = ((2, [3, 1]), (3, [4, 4, 1]), (1, [2, 2, 1]))


def networks(seed: int, n_inputs: int = 4) -> list[Network]:
    """Small networks with parameters in [-1, 1] and inputs in [-2, 2], drawn from ``seed``."""
    rng = random.Random(seed)
    drawn = []
    for nin, nouts in _SHAPES:
        sizes = [nin, *nouts]
        n_params = sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(nouts)))
        drawn.append(
            {
                "nin": nin,
                "nouts": nouts,
                "params": [rng.uniform(-1.0, 1.0) for _ in range(n_params)],
                "inputs": [[rng.uniform(-2.0, 2.0) for _ in range(nin)] for _ in range(n_inputs)],
            }
        )
    return drawn


def reference(network: Network, layout: tuple[Activation, Activation]) -> dict[str, Any]:
    """The reference MLP's outputs and parameter gradients, as the worker reports a student's."""
    hidden, output = layout
    model = MLP(network["nin"], network["nouts"], hidden, output_activation=output)
    params = model.parameters()
    for p, value in zip(params, network["params"], strict=True):
        p.data = value
    outputs, grads = [], []
    for x in network["inputs"]:
        model.zero_grad()
        out = model(x)
        assert isinstance(out, Value)  # every shape above has one output
        out.backward()
        outputs.append(out.data)
        grads.append([p.grad for p in params])
    return {"outputs": outputs, "grads": grads}


def _close(got: list[float], want: list[float], tol: Tolerance) -> bool:
    return len(got) == len(want) and all(tol.close(g, w) for g, w in zip(got, want, strict=True))


def grade_networks(
    nets: list[Network], results: list[dict[str, Any]], tol: Tolerance
) -> tuple[str, str, Network | None, tuple[Activation, Activation]]:
    """``(status, message, the failing network with its failing input only, layout assumed)``."""
    layout = LAYOUTS[0]
    for layout in LAYOUTS:
        if all(
            "outputs" in r and _close(r["outputs"], reference(n, layout)["outputs"], tol)
            for n, r in zip(nets, results, strict=True)
        ):
            break
    else:
        layout = LAYOUTS[0]
    words = f"hidden {layout[0]}, output {layout[1]}"
    for net, got in zip(nets, results, strict=True):
        shape = f"MLP({net['nin']}, {net['nouts']})"
        if "error" in got and got["phase"] == "build":
            message = (
                f"{shape} could not be built and read the lecture's way, so the network "
                f"cannot be compared: {got['error']}. The check needs MLP(nin, nouts), nouts "
                "a list of layer sizes, and parameters() listing every neuron's weights, "
                "then its bias"
            )
            return "unsupported", message, None, layout
        if "error" in got:
            first = {**net, "inputs": net["inputs"][:1]}
            return "error", f"{shape} raised {got['error']} ({got['phase']})", first, layout
        want = reference(net, layout)
        for j, x in enumerate(net["inputs"]):
            failing = {**net, "inputs": [x]}
            if not tol.close(got["outputs"][j], want["outputs"][j]):
                tried = ", ".join(f"{h}/{o}" for h, o in LAYOUTS)
                message = (
                    f"{shape} outputs match no activation layout tried ({tried}), so the "
                    f"network cannot be compared; with {words}: output {got['outputs'][j]!r}, "
                    f"expected {want['outputs'][j]!r}"
                )
                return "unsupported", message, failing, layout
            if not _close(got["grads"][j], want["grads"][j], tol):
                message = f"{shape} parameter gradients differ (assumed {words})"
                return "failed", message, failing, layout
    return "passed", f"{len(nets)} networks agree; assumed {words}", None, layout


def reproducer(
    import_line: str,
    network: Network,
    layout: tuple[Activation, Activation],
    *,
    call: str = "",
) -> str:
    """Python that builds the failing network with the student's MLP and prints what to compare.

    ``call`` is the method the network is run with ("" for calling the model itself).
    """
    want = reference(network, layout)
    x = network["inputs"][0]
    model = f"model.{call}" if call else "model"
    return "\n".join(
        [
            import_line,
            "",
            f"model = MLP({network['nin']}, {network['nouts']})",
            f"params = {network['params']!r}",
            "for p, v in zip(model.parameters(), params):",
            "    p.data = v",
            f"out = {model}({x!r})",
            "out = out[0] if isinstance(out, list) else out",
            "out.backward()",
            f"print(out.data)  # expected {want['outputs'][0]!r} (hidden {layout[0]}, "
            f"output {layout[1]})",
            "print([p.grad for p in model.parameters()])",
            f"# expected {want['grads'][0]!r}",
        ]
    )
