"""Engines in other languages graded over stdio: the example ports, their planted bugs, parity."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path
from typing import Final

import pytest

from micrograd.oracle.checks import CATALOGUE
from micrograd.oracle.suite import Options, SuiteResult, run_suite
from micrograd.oracle.targets.stdio import command_target
from tests.oracle import ports
from tests.oracle.helpers import FAST, engine, engine_file, graded, not_passed

STRICT: Final = Options(max_examples=30, use_torch=False, strict=True)
"""The edge group counted too: the example engines pass it."""

_COUNTED: Final = [c.name for c in CATALOGUE if c.kind != "edge"]


def _root_cause(failed: str = "") -> dict[str, str]:
    """A root cause: every counted check not graded, except ``failed``, graded before it."""
    return {**dict.fromkeys(_COUNTED, "not_graded"), **({failed: "failed"} if failed else {})}


JS_CAUGHT: Final[dict[str, dict[str, str]]] = {
    # The local-gradients layout has one += for every op: each binary op shows it with its
    # input used twice; graphs are then built from no combiner at all.
    "assign": {
        **dict.fromkeys(["add", "sub", "mul", "div", "pow_value"], "failed"),
        **dict.fromkeys(["reused_node", "deep_chain"], "not_graded"),
    },
    "tanh_rule": {"tanh": "failed"},
    "rsub_swapped": {"rsub": "failed"},
    # a / b is a * b ** -1 in this engine, as in the lecture's.
    "pow_rule": dict.fromkeys(
        ["div", "rdiv", "pow_int", "pow_negative", "pow_fractional"], "failed"
    ),
    "log_rule": {"log": "failed"},
    "wrong_order": _root_cause("sub"),
    "no_seed": _root_cause(),
    "hang_exp": {"exp": "timeout"},
    "crash_log": {"log": "error"},
    "throws_sigmoid": {"sigmoid": "error"},
}
"""What each planted bug of the JavaScript engine fails, as in the Python table (test_catch)."""

C_CAUGHT: Final[dict[str, dict[str, str]]] = {
    "assign": JS_CAUGHT["assign"],
    "tanh_rule": {"tanh": "failed"},
    "sub_sign": {"sub": "failed", "rsub": "failed"},  # the C adapter builds 2 - a as 2 - a
    "pow_rule": dict.fromkeys(["pow_int", "pow_negative", "pow_fractional"], "failed"),
    "exp_rule": {"exp": "failed"},
    "wrong_order": _root_cause("sub"),
    "no_seed": _root_cause(),
    "hang_exp": {"exp": "timeout"},
    "crash_log": {"log": "error"},
}
"""What each planted bug of the C engine fails."""


def _every_check_passes(suite: SuiteResult) -> None:
    assert {c.name: c.status for c in suite.checks if c.status != "passed"} == {}
    assert suite.passed


class TestJavaScript:
    """The JavaScript port: its correct engine passes, each planted bug is caught where expected."""

    def test_the_correct_engine_passes_every_check(self, tmp_path: Path) -> None:
        """No false positive: every check passes, the edge group included."""
        suite = run_suite(command_target(ports.js_command(tmp_path)), STRICT)
        _every_check_passes(suite)
        assert suite.loaded == "engine.js"

    def test_every_planted_bug_is_in_the_table(self) -> None:
        """Each bug has its expected verdict, and each verdict a bug."""
        assert set(JS_CAUGHT) == set(ports.JS_BUGS)

    @pytest.mark.parametrize("bug", sorted(ports.JS_BUGS))
    def test_bug_is_caught_on_the_right_checks(self, bug: str, tmp_path: Path) -> None:
        """The run fails, on exactly the checks the bug breaks."""
        suite = run_suite(command_target(ports.js_command(tmp_path, ports.JS_BUGS[bug])), FAST)
        assert not suite.passed
        assert not_passed(suite) == JS_CAUGHT[bug]

    def test_the_ports_own_message_is_reported(self, tmp_path: Path) -> None:
        """An exception thrown by the port is shown with its type and message."""
        command = ports.js_command(tmp_path, ports.JS_BUGS["throws_sigmoid"])
        suite = run_suite(command_target(command), Options(only=frozenset({"sigmoid"})))
        (sigmoid,) = suite.checks
        assert sigmoid.message == "raised RangeError: no sigmoid yet building the graph"


class TestC:
    """The C port: its correct engine passes, each planted bug is caught where expected."""

    def test_the_correct_engine_passes_every_check(self, tmp_path: Path) -> None:
        """No false positive: every check passes, the edge group included."""
        _every_check_passes(run_suite(command_target(ports.c_command(tmp_path)), STRICT))

    def test_every_planted_bug_is_in_the_table(self) -> None:
        """Each bug has its expected verdict, and each verdict a bug."""
        assert set(C_CAUGHT) == set(ports.C_BUGS)

    @pytest.mark.parametrize("bug", sorted(ports.C_BUGS))
    def test_bug_is_caught_on_the_right_checks(self, bug: str, tmp_path: Path) -> None:
        """The run fails, on exactly the checks the bug breaks."""
        suite = run_suite(command_target(ports.c_command(tmp_path, ports.C_BUGS[bug])), FAST)
        assert not suite.passed
        assert not_passed(suite) == C_CAUGHT[bug]


class TestRust:
    """The Rust port (standard library only) passes every check."""

    def test_the_correct_engine_passes_every_check(self, tmp_path: Path) -> None:
        """No false positive: every check passes, the edge group included."""
        _every_check_passes(run_suite(command_target(ports.rust_command(tmp_path)), STRICT))


PARITY: Final = [
    "correct_closures",
    "bug_tanh_rule",
    "bug_add_assign",
    "bug_rsub_flipped",
    "bug_no_topo",
    "bug_no_seed",
    "bug_hang_exp",
    "bug_os_exit",
    "bug_sys_exit",
]
"""Python engines graded both in-process and through the Python adapter."""


class TestPythonOverStdio:
    """A Python engine driven through a Python adapter gets the in-process route's verdicts."""

    @pytest.mark.parametrize("name", PARITY)
    def test_same_verdicts_as_in_process(self, name: str) -> None:
        """Every check ends with the same status, failures with the same shrunk program."""
        direct = graded(engine(name))
        stdio = run_suite(command_target(ports.python_command(engine_file(name))), FAST)
        assert {c.name: c.status for c in stdio.checks} == {c.name: c.status for c in direct.checks}
        assert stdio.passed == direct.passed
        failed = {c.name: c.program for c in direct.checks if c.status == "failed"}
        assert {c.name: c.program for c in stdio.checks if c.status == "failed"} == failed

    def test_ops_the_engine_lacks_are_unsupported_on_both_routes(self, tmp_path: Path) -> None:
        """An engine with + and * only: the same checks unsupported, and the message says why."""
        lean = tmp_path / "lean.py"
        lean.write_text(
            (Path(__file__).parent / "engines" / "correct_closures.py").read_text()
            + "\ndel Value.tanh, Value.__rpow__\n"
        )
        direct = run_suite(command_target(ports.python_command(lean)), FAST)
        from micrograd.oracle.runner import parse_target  # noqa: PLC0415 - beside its use

        python = run_suite(parse_target(f"{lean}:Value"), FAST)
        assert {c.name: c.status for c in direct.checks} == {
            c.name: c.status for c in python.checks
        }
        statuses = {c.name: c.status for c in direct.checks}
        assert statuses["tanh"] == statuses["rpow"] == "unsupported"
        tanh = next(c for c in direct.checks if c.name == "tanh")
        assert tanh.message == "the adapter does not list tanh among its ops"


@pytest.fixture(scope="module")
def vectors_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default test vectors, written once for the runners."""
    from micrograd.oracle.vectors import to_json, vectors  # noqa: PLC0415 - beside its use

    path = tmp_path_factory.mktemp("vectors") / "vectors.json"
    path.write_text(to_json(vectors()), encoding="utf-8")
    return path


def _cases(vectors: Path) -> int:
    """How many cases the vectors hold."""
    return sum(len(c["cases"]) for c in json.loads(vectors.read_text())["checks"])


def _run(command: str, vectors: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*shlex.split(command), str(vectors)], capture_output=True, text=True, check=False
    )


class TestVectorRunners:
    """The docs' loops over the vectors, in JavaScript and C: a correct engine passes them all."""

    @pytest.mark.parametrize("bug", ["", "tanh_rule"])
    def test_javascript(self, bug: str, tmp_path: Path, vectors_file: Path) -> None:
        """Every case passes the correct engine; the tanh bug fails tanh's cases, by name."""
        engine = tmp_path / "engine.js"
        engine.write_text(
            ports.edited(
                (ports.EXAMPLES / "js" / "engine.js").read_text(), ports.JS_BUGS.get(bug, ())
            )
        )
        runner = shlex.join([ports.tool("node"), str(ports.EXAMPLES / "js" / "vectors.js")])
        done = subprocess.run(
            [*shlex.split(runner), str(vectors_file), str(engine)],
            capture_output=True,
            text=True,
            check=False,
        )
        summary = done.stdout.splitlines()[-1]
        if bug:
            assert done.returncode == 1
            assert "FAILED tanh: case 0" in done.stdout
        else:
            assert (done.returncode, summary) == (
                0,
                f"{_cases(vectors_file)} passed, 0 failed, 0 skipped",
            )

    @pytest.mark.parametrize("bug", ["", "tanh_rule"])
    def test_c(self, bug: str, tmp_path: Path, vectors_file: Path) -> None:
        """The same in C, with the adapter's reader."""
        runner = ports.c_command(tmp_path, ports.C_BUGS.get(bug, ()), main="vectors")
        done = _run(runner, vectors_file)
        if bug:
            assert done.returncode == 1
            assert "FAILED tanh: case" in done.stdout
        else:
            summary = done.stdout.splitlines()[-1]
            assert (done.returncode, summary) == (0, f"{_cases(vectors_file)} passed, 0 failed")
