from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import Value
from micrograd.nn import MLP, Activation, Layer, Module, Neuron

ACTIVATIONS: tuple[Activation, ...] = ("relu", "tanh", "sigmoid", "linear")

finite = st.floats(-3.0, 3.0, allow_nan=False)
widths = st.lists(st.integers(1, 5), min_size=1, max_size=4)
seeds = st.integers(0, 2**32 - 1)


def hand_neuron(w: Sequence[float], b: float, x: Sequence[float], activation: str) -> Value:
    """A neuron written with + and * as a student would: act(((b + w0*x0) + w1*x1) + ...)."""
    act = Value(b)
    for wi, xi in zip(w, x, strict=True):
        act = act + Value(wi) * Value(xi)
    if activation == "relu":
        return act.relu()
    if activation == "tanh":
        return act.tanh()
    if activation == "sigmoid":
        return act.sigmoid()
    return act


class TestParameterOrder:
    """Parameters come layer by layer, neuron by neuron, weights (in input order) then bias."""

    @given(nin=st.integers(1, 5), nouts=widths, seed=seeds)
    def test_mlp_parameters_are_each_neurons_weights_then_bias_in_layer_order(
        self, nin: int, nouts: list[int], seed: int
    ) -> None:
        """MLP.parameters() is the concatenation of w..., b over neurons over layers."""
        model = MLP(nin, nouts, seed=seed)
        expected = [p for layer in model.layers for n in layer.neurons for p in (*n.w, n.b)]
        params = model.parameters()
        assert len(params) == sum((a + 1) * b for a, b in zip([nin, *nouts], nouts, strict=False))
        assert all(p is q for p, q in zip(params, expected, strict=True))

    @given(nin=st.integers(1, 5), nouts=widths, seed=seeds)
    def test_parameters_are_distinct_and_stable(
        self, nin: int, nouts: list[int], seed: int
    ) -> None:
        """Every parameter is its own Value, and repeated calls list the same objects."""
        model = MLP(nin, nouts, seed=seed)
        first, second = model.parameters(), model.parameters()
        assert len({id(p) for p in first}) == len(first)
        assert all(p is q for p, q in zip(first, second, strict=True))

    def test_layer_lists_neurons_in_output_order(self) -> None:
        """Layer.parameters() is neuron 0's weights and bias, then neuron 1's, and so on."""
        layer = Layer(3, 2, seed=5)
        n0, n1 = layer.neurons
        assert layer.parameters() == [*n0.w, n0.b, *n1.w, n1.b]

    def test_base_module_has_no_parameters(self) -> None:
        """A bare Module has an empty parameter list and zero_grad() is a no-op on it."""
        module = Module()
        module.zero_grad()
        assert module.parameters() == []


class TestInitialisation:
    """Weights are uniform in [-1, 1], biases 0, reproducible; the global RNG is untouched."""

    @given(seed=seeds)
    def test_same_seed_same_weights_and_other_seed_other_weights(self, seed: int) -> None:
        """Two MLPs from one seed start equal; from the next seed they differ."""
        a, b, c = (
            MLP(2, [4, 1], seed=seed),
            MLP(2, [4, 1], seed=seed),
            MLP(2, [4, 1], seed=seed + 1),
        )
        assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
        assert [p.data for p in a.parameters()] != [p.data for p in c.parameters()]

    @given(seed=seeds)
    def test_weights_are_in_range_and_biases_zero(self, seed: int) -> None:
        """Every weight lies in [-1, 1] and every bias is exactly 0.0."""
        model = MLP(3, [5, 2], seed=seed)
        for layer in model.layers:
            for n in layer.neurons:
                assert all(-1.0 <= w.data <= 1.0 for w in n.w)
                assert n.b.data == 0.0

    def test_weights_come_from_one_stream_in_parameter_order(self) -> None:
        """An int seed draws the weights, in order, from random.Random(seed).uniform(-1, 1)."""
        rng = random.Random(42)
        model = MLP(2, [3, 1], seed=42)
        weights = [p.data for layer in model.layers for n in layer.neurons for p in n.w]
        assert weights == [rng.uniform(-1.0, 1.0) for _ in weights]

    def test_a_shared_random_is_advanced(self) -> None:
        """Passing one random.Random to two neurons gives them different, consecutive weights."""
        rng = random.Random(7)
        a, b = Neuron(2, seed=rng), Neuron(2, seed=rng)
        replay = random.Random(7)
        assert [w.data for w in (*a.w, *b.w)] == [replay.uniform(-1.0, 1.0) for _ in range(4)]

    def test_global_random_state_is_untouched(self) -> None:
        """Building a network neither reads nor advances Python's global random generator."""
        before = random.getstate()
        MLP(2, [16, 16, 1])
        assert random.getstate() == before

    @pytest.mark.parametrize(
        ("seed", "type_name"), [(1.5, "float"), ("1", "str"), (True, "bool"), (None, "NoneType")]
    )
    def test_bad_seed_is_a_type_error(self, seed: object, type_name: str) -> None:
        """A seed that is neither an int nor a random.Random raises TypeError naming its type."""
        message = rf"^seed must be an int or a random\.Random; got {type_name}$"
        with pytest.raises(TypeError, match=message):
            Neuron(2, seed=seed)  # type: ignore[arg-type]  # the wrong types are the point

    def test_seed_defaults_to_zero(self) -> None:
        """Neuron, Layer and MLP without a seed start from the weights of seed 0."""
        pairs = [
            (Neuron(3), Neuron(3, seed=0)),
            (Layer(3, 2), Layer(3, 2, seed=0)),
            (MLP(3, [2, 1]), MLP(3, [2, 1], seed=0)),
        ]
        for default, zero in pairs:
            assert [p.data for p in default.parameters()] == [p.data for p in zero.parameters()]


class TestForward:
    """The network computes exactly the expression written out by hand."""

    @given(
        x=st.lists(finite, min_size=1, max_size=5),
        activation=st.sampled_from(ACTIVATIONS),
        seed=seeds,
    )
    def test_neuron_equals_hand_built_expression_bit_for_bit(
        self, x: list[float], activation: Activation, seed: int
    ) -> None:
        """Neuron(x) equals act(b + w0*x0 + ...) built from + and *, value and grads to the bit."""
        neuron = Neuron(len(x), activation, seed=seed)
        neuron.b.data = 0.25
        out = neuron(x)
        hand = hand_neuron([w.data for w in neuron.w], 0.25, x, activation)
        assert out.data == hand.data
        out.backward()
        hand.backward()
        assert [w.grad for w in neuron.w] == [c.grad for c in _weight_leaves(hand, len(x))]

    @given(x=st.tuples(finite, finite), seed=seeds, activation=st.sampled_from(ACTIVATIONS))
    def test_mlp_equals_hand_built_layers_bit_for_bit(
        self, x: tuple[float, float], seed: int, activation: Activation
    ) -> None:
        """MLP(x) equals hand-built neurons of the hidden layers feeding a linear output neuron."""
        model = MLP(2, [3, 2, 1], activation, seed=seed)
        h = list(x)
        for layer in model.layers:
            act = activation if layer is not model.layers[-1] else "linear"
            h = [hand_neuron([w.data for w in n.w], n.b.data, h, act).data for n in layer.neurons]
        assert model(x).data == h[0]

    def test_activations_are_applied_where_documented(self) -> None:
        """Hidden layers use the chosen activation and the output layer is linear by default."""
        model = MLP(2, [3, 3, 1], "tanh")
        assert [n.activation for layer in model.layers for n in layer.neurons] == ["tanh"] * 6 + [
            "linear"
        ]
        relu_out = MLP(2, [3, 1], output_activation="relu")
        assert relu_out.layers[-1].neurons[0].activation == "relu"

    def test_relu_neuron_outputs_zero_for_negative_sum(self) -> None:
        """A relu neuron whose weighted sum is negative outputs exactly 0.0."""
        neuron = Neuron(1, "relu")
        neuron.w[0].data = 1.0
        assert neuron([-2.0]).data == 0.0
        assert neuron([2.0]).data == 2.0

    def test_layer_returns_a_list_even_for_one_neuron(self) -> None:
        """Layer(x) is a list of Values, one per neuron, also when there is a single neuron."""
        out = Layer(2, 1)([1.0, 2.0])
        assert isinstance(out, list)
        assert len(out) == 1
        assert isinstance(out[0], Value)

    def test_multi_output_mlp_gives_outputs_and_refuses_call(self) -> None:
        """MLP.outputs() lists every output; calling a several-output MLP raises ValueError."""
        model = MLP(2, [4, 3])
        assert len(model.outputs([0.5, 0.5])) == 3
        message = (
            r"^MLP\(2 -> 4 -> 3, activation=relu, output_activation=linear\) has 3 outputs; "
            r"calling it needs exactly one, use \.outputs\(x\) for the list$"
        )
        with pytest.raises(ValueError, match=message):
            model([0.5, 0.5])

    def test_inputs_may_be_values(self) -> None:
        """Inputs given as Values receive gradients through the network."""
        x = [Value(0.5), Value(-0.25)]
        MLP(2, [4, 1], "tanh", seed=3)(x).backward()
        assert any(v.grad != 0.0 for v in x)

    @pytest.mark.parametrize("n", [1, 3])
    @pytest.mark.parametrize(
        ("module", "name"),
        [
            (Neuron(2), r"Neuron\(2, relu\)"),
            (Layer(2, 3), r"Layer\(2 -> 3, relu\)"),
            (MLP(2, [3, 1]), r"Layer\(2 -> 3, relu\)"),  # its first layer
        ],
    )
    def test_wrong_number_of_inputs_raises(self, module: Any, name: str, n: int) -> None:
        """The wrong number of inputs raises ValueError naming the module and both counts."""
        with pytest.raises(ValueError, match=rf"^{name} takes 2 inputs; got {n}$"):
            module([0.0] * n)


class TestBackward:
    """Gradients of the network's output are the true derivatives."""

    @given(x=st.tuples(finite, finite), seed=seeds)
    def test_tanh_mlp_gradients_match_central_differences(
        self, x: tuple[float, float], seed: int
    ) -> None:
        """For a tanh MLP, each parameter's grad agrees with a central difference of the output."""
        model = MLP(2, [3, 2, 1], "tanh", seed=seed)
        model(x).backward()
        eps = 1e-6
        for p in model.parameters():
            saved = p.data
            p.data = saved + eps
            up = model(x).data
            p.data = saved - eps
            down = model(x).data
            p.data = saved
            assert p.grad == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-7)

    @pytest.mark.torch
    @settings(deadline=None)  # the first example imports torch
    @given(x=st.tuples(finite, finite), seed=seeds, activation=st.sampled_from(ACTIVATIONS))
    def test_gradients_match_torch(
        self, x: tuple[float, float], seed: int, activation: Activation
    ) -> None:
        """Output and every parameter gradient equal PyTorch float64 on the same weights."""
        torch = pytest.importorskip("torch")
        model = MLP(2, [4, 3, 1], activation, seed=seed)
        out = model(x)
        out.backward()
        act = {
            "relu": torch.relu,
            "tanh": torch.tanh,
            "sigmoid": torch.sigmoid,
            "linear": lambda t: t,
        }[activation]
        h = torch.tensor(x, dtype=torch.float64)
        tensors = []
        for i, layer in enumerate(model.layers):
            w = torch.tensor(
                [[p.data for p in n.w] for n in layer.neurons],
                dtype=torch.float64,
                requires_grad=True,
            )
            b = torch.tensor(
                [n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True
            )
            tensors.append((w, b))
            h = w @ h + b
            if i < len(model.layers) - 1:
                h = act(h)
        h[0].backward()
        assert out.data == pytest.approx(h[0].item(), rel=1e-12, abs=1e-12)
        expected = [
            g
            for w, b in tensors
            for row, bg in zip(w.grad, b.grad, strict=True)
            for g in (*row.tolist(), bg.item())
        ]
        assert [p.grad for p in model.parameters()] == pytest.approx(expected, rel=1e-12, abs=1e-12)

    def test_zero_grad_resets_every_parameter(self) -> None:
        """After backward(), zero_grad() sets every parameter's grad back to exactly 0.0."""
        model = MLP(2, [4, 1], "tanh", seed=1)
        model([0.3, -0.7]).backward()
        assert any(p.grad != 0.0 for p in model.parameters())
        model.zero_grad()
        assert all(p.grad == 0.0 for p in model.parameters())


class TestRepr:
    """The repr shows the shape and the activations."""

    def test_reprs_read_as_shapes(self) -> None:
        """Neuron, Layer and MLP reprs name sizes and activations."""
        assert repr(Neuron(3, "tanh")) == "Neuron(3, tanh)"
        assert repr(Layer(2, 16)) == "Layer(2 -> 16, relu)"
        assert (
            repr(MLP(2, [16, 16, 1]))
            == "MLP(2 -> 16 -> 16 -> 1, activation=relu, output_activation=linear)"
        )
        assert repr(MLP(3, [1])) == "MLP(3 -> 1, output_activation=linear)"
        assert repr(Layer(2, 1, "sigmoid")) == "Layer(2 -> 1, sigmoid)"
        assert (
            repr(MLP(2, [3, 1], "tanh"))
            == "MLP(2 -> 3 -> 1, activation=tanh, output_activation=linear)"
        )
        assert repr(MLP(2, [1, 1], output_activation="relu")) == (
            "MLP(2 -> 1 -> 1, activation=relu, output_activation=relu)"
        )


class TestValidation:
    """Bad shapes and activations fail at construction with a message naming the argument."""

    @pytest.mark.parametrize(
        ("build", "message"),
        [
            (lambda: Neuron(0), "^nin must be an int of at least 1; got 0$"),
            (lambda: Layer(0, 2), "^nin must be an int of at least 1; got 0$"),
            (lambda: Layer(2, 0), "^nout must be an int of at least 1; got 0$"),
            (lambda: MLP(0, [1]), "^nin must be an int of at least 1; got 0$"),
            (lambda: MLP(2, []), r"^MLP\(\) needs at least one layer width in nouts; got none$"),
            (lambda: MLP(2, [3, 0, 1]), r"^nouts\[1\] must be an int of at least 1; got 0$"),
            (
                lambda: MLP(2, [3, 1], "softplus"),  # type: ignore[arg-type]  # unknown on purpose
                "activation must be one of relu, tanh, sigmoid, linear",
            ),
            (lambda: MLP(2, [1], output_activation="elu"), "got 'elu'"),  # type: ignore[arg-type]  # an unknown activation on purpose
            (lambda: Neuron(True), "nin must be an int"),
        ],
    )
    def test_bad_construction_raises_value_error(self, build: object, message: str) -> None:
        """Each bad argument raises ValueError with a message saying what was expected."""
        assert callable(build)
        with pytest.raises(ValueError, match=message):
            build()


def _weight_leaves(root: Value, n: int) -> list[Value]:
    """The leaves Value(wi) of a hand-built neuron, in input order."""
    node = root if root.op == "+" else root.children[0]
    found: list[Value] = []
    while node.op == "+":
        left, product = node.children
        found.append(product.children[0])
        node = left
    assert len(found) == n
    return found[::-1]
