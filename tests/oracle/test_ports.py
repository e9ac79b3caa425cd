"""Engines in other languages graded over stdio: the example ports, their planted bugs, parity."""

from __future__ import annotations

import csv
import json
import shlex
import subprocess
from pathlib import Path
from typing import Final

import pytest

from micrograd.cli import main
from micrograd.oracle.checks import CATALOGUE
from micrograd.oracle.suite import Options, SuiteResult, run_suite
from micrograd.oracle.targets.stdio import command_target
from tests.oracle import ports
from tests.oracle.helpers import FAST, engine, engine_file, graded, not_passed

STRICT: Final = Options(max_examples=30, use_torch=False, strict=True)
"""The edge group counted too: the example engines pass it."""

_COUNTED: Final = [c.name for c in CATALOGUE if c.kind != "edge"]


def _root_cause() -> dict[str, str]:
    """A root cause: every counted check not graded."""
    return dict.fromkeys(_COUNTED, "not_graded")


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
    "wrong_order": _root_cause(),
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
    "wrong_order": _root_cause(),
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


def _assignment(folder: Path, **keys: str) -> Path:
    """An assignment file for ports: few cases, and ``keys`` (adapter, build) as strings."""
    path = folder / "assignment.toml"
    lines = [f"{key} = {json.dumps(value)}" for key, value in keys.items()]
    path.write_text("\n".join(["max_examples = 5", *lines, ""]), encoding="utf-8")
    return path


def _grades(out: Path) -> dict[str, list[str]]:
    """grades.csv's rows, by submission (the header's first cell is "submission")."""
    rows = csv.reader((out / "grades.csv").read_text(encoding="utf-8").splitlines())
    return {row[0]: row for row in rows}


def _js_submission(folder: Path, edits: ports.Edits = ()) -> None:
    folder.mkdir()
    for name in ("engine.js", "adapter.js"):
        text = (ports.EXAMPLES / "js" / name).read_text()
        (folder / name).write_text(ports.edited(text, edits) if name == "engine.js" else text)


class TestGradingPorts:
    """grade, and check with an assignment file, run a port's adapter from its own folder."""

    def test_a_class_of_javascript_ports(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Each folder is a submission, graded with the assignment's adapter; files are skipped."""
        node = ports.tool("node")
        submissions = tmp_path / "class"
        submissions.mkdir()
        _js_submission(submissions / "ada")
        _js_submission(submissions / "bob", ports.JS_BUGS["tanh_rule"])
        (submissions / "notes.txt").write_text("not a port")
        assignment = _assignment(tmp_path, adapter=f"{node} adapter.js")
        out = tmp_path / "out"
        argv = ["grade", str(submissions), "--assignment", str(assignment), "--out", str(out)]
        assert main([*argv, "--no-torch"]) == 1
        assert "skipped: notes.txt (not a folder: a port is handed in as one)" in (
            capsys.readouterr().out
        )
        rows = _grades(out)
        assert rows["ada"][-1] == "passed"
        assert rows["bob"][-1] == "FAILED"
        tanh = rows["submission"].index("tanh")
        assert (rows["ada"][tanh], rows["bob"][tanh]) == ("1", "0")

    def test_c_ports_are_built_first(self, tmp_path: Path) -> None:
        """The build command runs in each folder; a build that fails scores 0 and says why."""
        gcc = ports.tool("gcc")
        submissions = tmp_path / "class"
        for name, broken in (("cat", False), ("dan", True)):
            folder = submissions / name
            folder.mkdir(parents=True)
            for file in ("adapter.c", "engine.c", "engine.h"):
                (folder / file).write_text((ports.EXAMPLES / "c" / file).read_text())
            if broken:
                (folder / "engine.c").write_text("this is not C\n")
        build = f"{gcc} -O2 -o adapter adapter.c engine.c -lm"
        assignment = _assignment(tmp_path, adapter="./adapter", build=build)
        out = tmp_path / "out"
        argv = ["grade", str(submissions), "--assignment", str(assignment), "--out", str(out)]
        assert main([*argv, "--no-torch"]) == 1
        rows = _grades(out)
        assert rows["cat"][-1] == "passed"
        assert rows["dan"][-1].startswith("the build failed (exit status 1): ")
        assert rows["dan"][1] == "0"

    def test_one_ports_folder_is_one_submission(self, tmp_path: Path) -> None:
        """A folder of files given alone is graded as one port."""
        node = ports.tool("node")
        _js_submission(tmp_path / "eve")
        assignment = _assignment(tmp_path, adapter=f"{node} adapter.js")
        out = tmp_path / "out"
        argv = ["grade", str(tmp_path / "eve"), "--assignment", str(assignment), "--out", str(out)]
        assert main([*argv, "--no-torch"]) == 0
        assert (out / "eve.json").is_file()

    def test_a_slow_build_scores_0(self, tmp_path: Path) -> None:
        """A build past the submission's time limit is stopped."""
        (tmp_path / "class" / "fay").mkdir(parents=True)
        assignment = _assignment(tmp_path, adapter="./adapter", build="sleep 30")
        text = assignment.read_text() + "submission_timeout = 0.5\n"
        assignment.write_text(text)
        out = tmp_path / "out"
        argv = [
            "grade",
            str(tmp_path / "class"),
            "--assignment",
            str(assignment),
            "--out",
            str(out),
        ]
        assert main([*argv, "--no-torch"]) == 1
        (row,) = [r for name, r in _grades(out).items() if name != "submission"]
        assert row[-1] == "the build took longer than 0.5 s"

    def test_check_with_the_assignment_runs_its_adapter(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A student's self-check in their folder; giving --cmd as well is a usage error."""
        node = ports.tool("node")
        _js_submission(tmp_path / "gus")
        assignment = _assignment(tmp_path, adapter=f"{node} adapter.js")
        monkeypatch.chdir(tmp_path / "gus")
        argv = ["check", "--assignment", str(assignment), "--no-torch", "--only", "tanh"]
        assert main(argv) == 0
        assert main([*argv, "--cmd", "node adapter.js"]) == 2

    def test_a_file_is_no_port(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A file given to grade a class of ports is skipped: nothing to grade, exit 2."""
        (tmp_path / "engine.js").write_text("")
        assignment = _assignment(tmp_path, adapter="./adapter")
        argv = ["grade", str(tmp_path / "engine.js"), "--assignment", str(assignment)]
        assert main([*argv, "--out", str(tmp_path / "out")]) == 2
        assert "no submissions found" in capsys.readouterr().err


class TestPortWording:
    """Diagnoses of a port name op forms, not Python's special methods."""

    def test_a_swapped_reflected_form(self, tmp_path: Path) -> None:
        """2 - a computed as a - 2 is named with rsub."""
        command = ports.js_command(tmp_path, ports.JS_BUGS["rsub_swapped"])
        suite = run_suite(command_target(command), Options(only=frozenset({"rsub"})))
        (rsub,) = suite.checks
        assert rsub.message == (
            "4 - a gives a - 4: the reflected form (rsub) must compute 4 - a, with the number "
            "on the left"
        )

    def test_a_replaced_gradient(self, tmp_path: Path) -> None:
        """= instead of += is named with the op form, and no message has a dunder."""
        command = ports.js_command(tmp_path, ports.JS_BUGS["assign"])
        suite = run_suite(command_target(command), FAST)
        messages = [c.message for c in suite.checks if c.status == "failed"]
        assert any(m.endswith("in the backward of add") for m in messages)
        assert not [m for m in messages if "__" in m]
