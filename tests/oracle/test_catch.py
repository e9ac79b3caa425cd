"""The oracle catches every planted bug on the right check and passes every correct engine."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from micrograd.oracle.runner import parse_target
from micrograd.oracle.suite import Options, SuiteResult, run_suite
from tests.oracle.helpers import FAST, engine, graded, not_passed
from tests.oracle.planted import BUGS, source
from tests.oracle.planted import CORRECT as CORRECT_SOURCE

_OPS = [
    "add", "add_number", "radd", "sub", "sub_number", "rsub", "mul", "mul_number", "rmul",
    "div", "div_number", "rdiv", "neg", "pow_int", "pow_negative", "pow_fractional",
    "pow_value", "rpow", "exp", "log", "tanh", "relu", "sigmoid",
]  # fmt: skip
_GRAPH = {"reused_leaf": "failed", "reused_node": "failed", "deep_chain": "failed"}

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
    "bug_add_assign": _GRAPH,
    "bug_mul_assign": _GRAPH,
    "bug_no_upstream": _GRAPH,
    "bug_no_topo": {"reused_node": "failed"},
    "bug_duplicate_visits": {"reused_node": "failed"},
    # Walking the order forwards only shows once a node has a parent: a - b is a + (-b).
    "bug_wrong_order": {
        "sub": "failed",
        "rsub": "failed",
        "div": "failed",
        "rdiv": "failed",
        **_GRAPH,
    },
    "bug_no_seed": {"root_seed": "failed", **dict.fromkeys(_OPS, "failed")},
    "bug_hang_exp": {"exp": "timeout"},
    "bug_os_exit": {"log": "error"},
    "bug_segfault": {"tanh": "error"},
    "bug_sys_exit": {"relu": "error"},
    "bug_memory": {"sigmoid": "error"},
    # -a recurses forever; the lecture's a - b is a + (-b), so subtraction errs too.
    "bug_recursion": {"neg": "error", "sub": "error", "rsub": "error"},
    "bug_returns_float": {
        **dict.fromkeys(["add", "add_number", "radd", "sub", "sub_number", "rsub"], "error"),
        "reused_node": "error",
    },
}
"""Each planted bug, and exactly the checks that must not pass on it, with their status."""

CORRECT = [
    engine("correct_closures"),
    engine("correct_local_grads", "Scalar"),
    engine("correct_noisy"),
    "micrograd.engine:Value",
]
"""Correct engines in several styles; the last is the reference engine itself."""


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

    def test_an_engine_that_always_hangs_times_out_quickly(self) -> None:
        """An engine whose backward() never returns gets a timeout per check, 1 s each."""
        options = Options(max_examples=5, use_torch=False, only=frozenset({"root_seed", "add"}))
        suite = run_suite(parse_target(engine("bug_hang_all")), options)
        assert not_passed(suite) == {"root_seed": "timeout", "add": "timeout"}
        assert suite.seconds < 10

    def test_missing_seed_leaves_graph_checks_unsupported(self) -> None:
        """Graph checks need an op that passed; with every op failing they cannot run."""
        suite = graded(engine("bug_no_seed"))
        unsupported = {c.name for c in suite.checks if c.status == "unsupported"}
        assert unsupported == {"reused_leaf", "reused_node", "deep_chain"}


class TestCorrectEngines:
    """Correct engines, whatever their style, pass every check."""

    @pytest.mark.parametrize("target", CORRECT, ids=lambda t: Path(t.split(":")[0]).stem)
    def test_correct_engine_passes_everything(self, target: str) -> None:
        """No check fails, errs, times out or finds an op missing."""
        suite = graded(target, Options(max_examples=50, use_torch=False))
        assert {c.name: c.status for c in suite.checks if c.status != "passed"} == {}
        assert suite.passed

    @pytest.mark.torch
    def test_failures_are_confirmed_by_torch(self) -> None:
        """With PyTorch as second witness, a planted bug's failures are confirmed, none dropped."""
        suite = graded(engine("bug_wrong_order"), Options(max_examples=30))
        assert not_passed(suite) == PLANTED["bug_wrong_order"]
        assert sum(c.excluded for c in suite.checks) == 0


def _karpathy_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("karpathy")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(folder),
         "micrograd==0.1.0"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot install micrograd==0.1.0 from PyPI: {done.stderr.strip()[-200:]}")
    return folder


class TestKarpathy:
    """Karpathy's published micrograd (PyPI micrograd==0.1.0), itself a package named micrograd."""

    def test_passes_what_it_supports_and_lacks_the_rest(
        self, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """Every op it has passes, the ones it lacks are unsupported, and its micrograd wins."""
        folder = _karpathy_dir(tmp_path_factory)
        suite = run_suite(parse_target("micrograd.engine", paths=(str(folder),)), FAST)
        assert suite.loaded == "micrograd.engine.Value"
        unsupported = {c.name for c in suite.checks if c.status == "unsupported"}
        assert unsupported == {"pow_value", "rpow", "exp", "log", "tanh", "sigmoid"}
        assert not_passed(suite) == {}

    def test_its_mlp_matches_the_reference(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        """With --nn micrograd.nn its MLP agrees, with relu hidden layers and a linear output."""
        folder = _karpathy_dir(tmp_path_factory)
        nn = parse_target("micrograd.nn", paths=(str(folder),), default_class="MLP")
        target = replace(parse_target("micrograd.engine", paths=(str(folder),)), nn=nn)
        suite = run_suite(target, replace(FAST, only=frozenset({"nn_mlp"})))
        (result,) = suite.checks
        assert (result.status, result.message) == (
            "passed",
            "3 networks agree; assumed hidden relu, output linear",
        )


def _with_nn(nn_name: str) -> SuiteResult:
    nn = parse_target(engine(nn_name, "MLP"))
    target = replace(parse_target(engine("correct_closures")), nn=nn)
    return run_suite(target, replace(FAST, only=frozenset({"nn_mlp"})))


class TestNeuralNetworks:
    """--nn: a student's MLP with the reference's parameters gives the reference's numbers."""

    def test_lecture_mlp_passes_and_says_what_it_assumed(self) -> None:
        """The lecture's all-tanh MLP passes, and the message names the layout assumed."""
        (result,) = _with_nn("nn_lecture").checks
        assert (result.status, result.message) == (
            "passed",
            "3 networks agree; assumed hidden tanh, output tanh",
        )

    def test_missing_bias_parameter_is_an_error(self) -> None:
        """parameters() without the biases cannot take the reference's parameters."""
        (result,) = _with_nn("nn_bug_no_bias").checks
        assert result.status == "error"
        assert "parameters() has 9 items, expected 13" in result.message

    def test_wrong_forward_pass_fails_with_a_reproducer(self) -> None:
        """A bias added twice matches no layout; the reproducer builds that network."""
        (result,) = _with_nn("nn_bug_double_bias").checks
        assert result.status == "failed"
        assert "outputs match no activation layout" in result.message
        assert result.reproducer is not None
        assert "model = MLP(2, [3, 1])" in result.reproducer
