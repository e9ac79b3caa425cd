"""The oracle catches every planted bug on the right check and passes every correct engine."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from micrograd.oracle.runner import parse_target
from micrograd.oracle.suite import Options, SuiteResult, run_suite
from tests.oracle.helpers import FAST, engine, engine_file, graded, karpathy_micrograd, not_passed
from tests.oracle.planted import BUGS, edited, source
from tests.oracle.planted import CORRECT as CORRECT_SOURCE

_OPS = [
    "add", "add_number", "radd", "sub", "sub_number", "rsub", "mul", "mul_number", "rmul",
    "div", "div_number", "rdiv", "neg", "pow_int", "pow_negative", "pow_fractional",
    "pow_value", "rpow", "exp", "log", "tanh", "relu", "sigmoid",
]  # fmt: skip
_SEEDLESS = {"root_seed", *_OPS, "reused_node", "deep_chain"}

PLANTED: dict[str, dict[str, str]] = {
    "bug_tanh_rule": {"tanh": "failed"},
    "bug_exp_rule": {"exp": "failed"},
    "bug_log_rule": {"log": "failed"},
    "bug_sigmoid_rule": {"sigmoid": "failed"},
    "bug_relu_rule": {"relu": "failed"},
    "bug_div_rule": {"div": "failed"},
    # The lecture's a / b is a * b**-1, so a wrong power rule breaks division by a Value too.
    "bug_pow_rule": {
        "pow_int": "failed",
        "pow_negative": "failed",
        "pow_fractional": "failed",
        "div": "failed",
        "rdiv": "failed",
    },
    "bug_rsub_flipped": {"rsub": "failed"},
    "bug_rdiv_flipped": {"rdiv": "failed"},
    # = instead of += shows on the op itself, used with its input twice, and on the ops the
    # lecture builds from it (a - b is a + (-b), -a is a * -1); graphs are built without them.
    "bug_add_assign": {
        **dict.fromkeys(["add", "sub", "add_number", "radd", "sub_number"], "failed"),
        "deep_chain": "not_graded",
    },
    "bug_mul_assign": dict.fromkeys(
        ["mul", "mul_number", "rmul", "sub", "rsub", "div", "div_number", "neg"], "failed"
    ),
    "bug_exp_assign": {"exp": "failed"},
    "bug_log_assign": {"log": "failed"},
    "bug_tanh_assign": {"tanh": "failed"},
    "bug_relu_assign": {"relu": "failed"},
    "bug_sigmoid_assign": {"sigmoid": "failed"},
    "bug_pow_assign": {
        **dict.fromkeys(["pow_int", "pow_negative", "pow_fractional"], "failed"),
        **dict.fromkeys(["div", "rdiv"], "failed"),
    },
    "bug_pow_value_assign": {"pow_value": "failed"},
    # Forgetting * out.grad in __mul__ shows once a node of it passes a gradient other than 1 to
    # another: nested, (a * 2) * 2, -(-a) = (a * -1) * -1, so every form built on __mul__ fails.
    "bug_no_upstream": dict.fromkeys(
        ["sub", "mul", "rsub", "mul_number", "rmul", "div", "div_number", "rdiv", "neg"], "failed"
    ),
    "bug_no_topo": {"reused_node": "failed"},
    "bug_duplicate_visits": {"reused_node": "failed"},
    # Walking the order forwards shows once a node has a parent: a + a, a * a. Named on two
    # rules, the walk is the root cause; a - a (a + (-a)), which failed before in numbers that
    # two readings fitted, is then seen to be the walk's too.
    "bug_wrong_order": dict.fromkeys(_SEEDLESS, "not_graded"),
    "bug_topo_preorder": dict.fromkeys(_SEEDLESS, "not_graded"),
    # f(a) * f(a) loses a share, as a / b = a * b**-1 loses b's: the probe a * b + a does not,
    # so no "=" is named.
    "bug_mul_drops_input": {"mul": "failed", "div": "failed"},
    # The root cause is reported once; every check depends on it.
    "bug_no_seed": dict.fromkeys(_SEEDLESS, "not_graded"),
    "bug_hang_exp": {"exp": "timeout"},
    "bug_os_exit": {"log": "error"},
    "bug_segfault": {"tanh": "error"},
    "bug_sys_exit": {"relu": "error"},
    "bug_memory": {"sigmoid": "error"},
    # -a recurses forever; the lecture's a - b is a + (-b), so subtraction errs too.
    "bug_recursion": {"neg": "error", "sub": "error", "rsub": "error"},
    # A TypeError raised inside the student's own __add__ is a bug in it, not a missing op.
    "bug_add_typo": {
        **dict.fromkeys(["add", "add_number", "radd", "sub", "sub_number", "rsub"], "error"),
        "deep_chain": "not_graded",
    },
    "bug_returns_float": {
        **dict.fromkeys(["add", "add_number", "radd", "sub", "sub_number", "rsub"], "error"),
        "deep_chain": "not_graded",
    },
}
"""Each planted bug, and exactly the checks that must not pass on it, with their status."""

CORRECT = [
    engine("correct_closures"),
    engine("correct_local_grads", "Scalar"),
    engine("correct_noisy"),
]
"""Correct engines in several styles."""


class TestPlantedBugs:
    """Every planted bug is caught, on the check that names it and no other."""

    @pytest.mark.parametrize("name", sorted(PLANTED))
    def test_bug_is_caught_on_the_right_checks(self, name: str) -> None:
        """The checks that do not pass are exactly the ones the bug breaks, with that status."""
        assert not_passed(graded(engine(name))) == PLANTED[name]

    def test_every_planted_bug_is_in_the_table(self) -> None:
        """No planted bug is left out of the table above (bug_hang_all has a test of its own)."""
        assert set(BUGS) - {"bug_hang_all"} == set(PLANTED)

    def test_a_bug_whose_edit_no_longer_applies_is_reported(self, tmp_path: Path) -> None:
        """If the correct engine changes under a bug, writing it out fails and says which."""
        changed = tmp_path / "correct_closures.py"
        changed.write_text(CORRECT_SOURCE.read_text().replace("reversed(topo)", "topo[::-1]"))
        with pytest.raises(ValueError, match="bug_wrong_order: the edit's text occurs 0 times"):
            source("bug_wrong_order", correct=changed)

    def test_an_engine_that_always_hangs_is_reported_once(self) -> None:
        """A backward() that never returns is one root cause, found in seconds; none is graded."""
        suite = graded(engine("bug_hang_all"))
        assert suite.cause is not None
        assert suite.cause.message.startswith("backward() never returns")
        assert {c.status for c in suite.checks} == {"not_graded"}
        assert suite.seconds < 15
        assert not suite.passed

    def test_missing_seed_is_the_root_cause(self) -> None:
        """A root never seeded with 1 is named once, with the lone-leaf case as reproducer."""
        suite = graded(engine("bug_no_seed"))
        assert suite.cause is not None
        assert "does not set the root's grad to 1" in suite.cause.message
        assert suite.cause.program == {"leaves": [2.0], "ops": [], "root_grad": True}

    @pytest.mark.parametrize(
        ("name", "op"),
        [
            ("bug_exp_assign", "exp()"),
            ("bug_log_assign", "log()"),
            ("bug_tanh_assign", "tanh()"),
            ("bug_relu_assign", "relu()"),
            ("bug_sigmoid_assign", "sigmoid()"),
            ("bug_pow_value_assign", "__pow__"),
            ("bug_add_assign", "__add__"),
            ("bug_mul_assign", "__mul__"),
        ],
    )
    def test_replaced_gradients_are_named_with_their_op(self, name: str, op: str) -> None:
        """= instead of += is diagnosed as such, on the op's own check, naming that op."""
        check = (
            op.strip("_()").replace("pow", "pow_value")
            if name == "bug_pow_value_assign"
            else (op.strip("_()"))
        )
        (result,) = [c for c in graded(engine(name)).checks if c.name == check]
        assert "replaced (=) instead of accumulated (+=)" in result.message
        assert f"in the backward of {op}" in result.message

    @pytest.mark.parametrize(
        ("name", "symbol"), [("bug_rsub_flipped", "-"), ("bug_rdiv_flipped", "/")]
    )
    def test_swapped_reflected_operands_are_named(self, name: str, symbol: str) -> None:
        """__rsub__ computing a - 2 is told that other comes first."""
        (result,) = [c for c in graded(engine(name)).counted() if c.status == "failed"]
        assert f"so it must compute other {symbol} self" in result.message

    def test_a_node_missing_from_the_graph_is_not_called_a_replaced_gradient(self) -> None:
        """A share lost to a node never reached reads like ``=``; the probe tells them apart.

        The same numbers from ``=`` in ``__mul__`` are named (``bug_mul_assign``).
        """
        (dropped,) = [c for c in graded(engine("bug_mul_drops_input")).checks if c.name == "mul"]
        assert dropped.status == "failed"
        assert "replaced" not in dropped.message
        (assigned,) = [c for c in graded(engine("bug_mul_assign")).checks if c.name == "mul"]
        assert "replaced (=) instead of accumulated (+=), in the backward of __mul__" in (
            assigned.message
        )

    def test_order_from_the_leaves_up_is_named_once(self) -> None:
        """Running the nodes' backward forwards is backward()'s fault: one root cause, named."""
        suite = graded(engine("bug_wrong_order"))
        assert suite.cause is not None
        assert suite.cause.message.startswith("backward() walks the graph wrongly")
        assert "loop over reversed(topo)" in suite.cause.message
        assert "append a node after its children" in suite.cause.message
        assert [c for c in suite.checks if c.status == "failed"] == []

    def test_a_graph_failure_beside_a_broken_op_names_the_op_to_fix_first(
        self, tmp_path: Path
    ) -> None:
        """No visited set and a wrong tanh rule: reused_node fails and says to fix tanh first."""
        both = tmp_path / "two_bugs.py"
        both.write_text(edited(source("bug_duplicate_visits"), BUGS["bug_tanh_rule"].edits, "tanh"))
        checks = {c.name: c for c in graded(str(both)).checks}
        assert (checks["tanh"].status, checks["reused_node"].status) == ("failed", "failed")
        assert "(fix tanh first: the ops used here may share their code)" in (
            checks["reused_node"].message
        )


class TestCorrectEngines:
    """Correct engines, whatever their style, pass every check."""

    @pytest.mark.parametrize("target", CORRECT, ids=lambda t: Path(t.split(":")[0]).stem)
    def test_correct_engine_passes_everything(self, target: str) -> None:
        """No counted check fails, errs, times out or finds an op missing."""
        suite = graded(target, Options(max_examples=50, use_torch=False))
        assert {c.name: c.status for c in suite.counted() if c.status != "passed"} == {}
        assert suite.passed


class TestEdgeGroup:
    """The edge group tells a student about extreme inputs without failing the run."""

    def test_the_lectures_engine_learns_its_edges(self) -> None:
        """Its sigmoid overflows, its interior nodes keep their grad, its sort recurses."""
        suite = graded(engine("correct_closures"))
        edge = {c.name: c for c in suite.edge()}
        assert {name: c.status for name, c in edge.items()} == {
            "tanh_edge": "passed",
            "sigmoid_edge": "error",
            "exp_edge": "passed",
            "relu_edge": "passed",
            "backward_twice": "failed",
            "deep_chain_5000": "error",
        }
        assert "interior nodes that keep their grad" in edge["backward_twice"].message
        assert "RecursionError on chains longer than about 9" in edge["deep_chain_5000"].message
        assert suite.passed

    def test_strict_counts_the_edge_group(self) -> None:
        """With strict, the same edge failures fail the run."""
        strict = Options(max_examples=10, use_torch=False, strict=True)
        suite = graded(engine("correct_closures"), strict)
        assert not suite.passed
        assert len(suite.counted()) == len(suite.checks)

    def test_the_lectures_tanh_formula_overflows(self, tmp_path: Path) -> None:
        """(exp(2x) - 1) / (exp(2x) + 1) passes the main group and errs at the edge."""
        path = tmp_path / "engine.py"
        path.write_text(
            CORRECT_SOURCE.read_text().replace(
                "        t = math.tanh(self.data)\n",
                "        x = self.data\n        t = (math.exp(2*x) - 1) / (math.exp(2*x) + 1)\n",
            )
        )
        suite = run_suite(parse_target(str(path)), FAST)
        assert suite.passed
        (tanh,) = [c for c in suite.edge() if c.name == "tanh_edge"]
        assert tanh.status == "error"
        assert "OverflowError" in tanh.message

    @pytest.mark.torch
    def test_failures_are_confirmed_by_torch(self) -> None:
        """With PyTorch as second witness, a planted bug's failures are confirmed, none dropped."""
        suite = graded(engine("bug_wrong_order"), Options(max_examples=30))
        assert not_passed(suite) == PLANTED["bug_wrong_order"]
        assert sum(c.excluded for c in suite.checks) == 0


class TestKarpathy:
    """Karpathy's published micrograd (PyPI micrograd==0.1.0), itself a package named micrograd."""

    def test_passes_what_it_supports_and_lacks_the_rest(
        self, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """Every op it has passes, the ones it lacks are unsupported, and its micrograd wins."""
        folder = karpathy_micrograd(tmp_path_factory)
        suite = run_suite(parse_target("micrograd.engine", paths=(str(folder),)), FAST)
        assert suite.loaded == "micrograd.engine.Value"
        unsupported = {c.name for c in suite.checks if c.status == "unsupported"}
        missing = {"pow_value", "rpow", "exp", "log", "tanh", "sigmoid"}
        assert unsupported == missing | {"exp_edge", "tanh_edge", "sigmoid_edge"}
        assert not_passed(suite) == {}

    def test_its_mlp_matches_the_reference(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """With --nn micrograd.nn its MLP agrees, with relu hidden layers and a linear output."""
        folder = karpathy_micrograd(tmp_path_factory)
        nn = parse_target("micrograd.nn", paths=(str(folder),), default_class="MLP")
        target = replace(parse_target("micrograd.engine", paths=(str(folder),)), nn=nn)
        suite = run_suite(target, replace(FAST, only=frozenset({"nn_mlp"})))
        (result,) = suite.checks
        assert (result.status, result.message) == (
            "passed",
            "3 networks agree; assumed hidden relu, output linear",
        )


def _with_nn(nn_name: str, require: frozenset[str] = frozenset()) -> SuiteResult:
    nn = parse_target(engine(nn_name, "MLP"))
    target = replace(parse_target(engine("correct_closures")), nn=nn)
    return run_suite(target, replace(FAST, only=frozenset({"nn_mlp"}), require=require))


class TestNeuralNetworks:
    """--nn: a student's MLP with the reference's parameters gives the reference's numbers."""

    def test_lecture_mlp_passes_and_says_what_it_assumed(self) -> None:
        """The lecture's all-tanh MLP passes, and the message names the layout assumed."""
        (result,) = _with_nn("nn_lecture").checks
        assert (result.status, result.message) == (
            "passed",
            "3 networks agree; assumed hidden tanh, output tanh",
        )

    def test_missing_bias_parameter_is_unsupported(self) -> None:
        """parameters() without the biases cannot take the reference's parameters: not comparable.

        The check cannot tell a network without biases from a forgotten one;
        ``--require nn_mlp`` makes it fail.
        """
        (result,) = _with_nn("nn_bug_no_bias").checks
        assert result.status == "unsupported"
        assert "parameters() has 9 items, expected 13" in result.message
        (required,) = _with_nn("nn_bug_no_bias", require=frozenset({"nn_mlp"})).checks
        assert required.status == "failed"

    @pytest.mark.parametrize(
        ("old", "new", "says"),
        [
            ("def parameters(self):", "def get_params(self):", "no attribute 'parameters'"),
            ("def __init__(self, nin, nouts):", "def __init__(self, nin, nouts, acts):", "acts"),
        ],
    )
    def test_an_mlp_built_another_way_is_unsupported(
        self, tmp_path: Path, old: str, new: str, says: str
    ) -> None:
        """An MLP without parameters(), or taking other arguments, is not comparable.

        Both are seen in published engines: unsupported, with the reason.
        """
        source = engine_file("nn_lecture").read_text()
        assert old in source
        (tmp_path / "correct_closures.py").write_text(engine_file("correct_closures").read_text())
        (tmp_path / "nn.py").write_text(source.replace(old, new))
        target = replace(
            parse_target(engine("correct_closures")),
            nn=parse_target(str(tmp_path / "nn.py"), default_class="MLP"),
        )
        (result,) = run_suite(target, replace(FAST, only=frozenset({"nn_mlp"}))).checks
        assert result.status == "unsupported"
        assert says in result.message
        assert result.message.endswith("then its bias")

    def test_an_unrecognised_layout_is_unsupported(self) -> None:
        """A bias added twice matches no layout: not comparable, so unsupported, never failed."""
        (result,) = _with_nn("nn_bug_double_bias").checks
        assert result.status == "unsupported"
        assert "outputs match no activation layout" in result.message
        assert result.reproducer is not None
        assert "model = MLP(2, [3, 1])" in result.reproducer
