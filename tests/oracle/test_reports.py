"""Reports: reproducers that show the wrong number when pasted, the JSON report, Gradescope's."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from micrograd.oracle import report, scoring, suite, worker
from micrograd.oracle.assignment import Assignment
from micrograd.oracle.checks import check_named
from micrograd.oracle.compare import Tolerance, expected
from micrograd.oracle.formats import gradescope, json_report
from micrograd.oracle.formats import text as text_format
from micrograd.oracle.report import rerun_command
from micrograd.oracle.reproducer import render
from micrograd.oracle.runner import parse_target
from micrograd.oracle.scoring import Graded
from micrograd.oracle.suite import STATUSES, CheckResult, Options, SuiteResult, run_suite
from tests.oracle.helpers import ENGINES, FAST, engine, engine_file, graded


def _run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=30
    )
    return done.stdout + done.stderr


def _graded(suite: SuiteResult) -> Graded:
    return scoring.grade(Assignment.default(), suite)


def _text(suite: SuiteResult) -> str:
    return text_format.render(_graded(suite))


def _json(suite: SuiteResult) -> Any:
    return json.loads(json_report.render(_graded(suite)))


def _gradescope(suite: SuiteResult) -> Any:
    return json.loads(gradescope.render(_graded(suite)))


def _gradescope_error(message: str) -> Any:
    return json.loads(gradescope.render(scoring.grade(Assignment.default(), None, error=message)))


def _check(name: str, engine_name: str) -> CheckResult:
    (found,) = [c for c in graded(engine(engine_name)).checks if c.name == name]
    return found


class TestReproducer:
    """A failure's reproducer runs as pasted and shows the wrong number beside the right one."""

    @pytest.mark.parametrize(
        ("engine_name", "check"),
        [
            ("bug_tanh_rule", "tanh"),
            ("bug_rsub_flipped", "rsub"),
            ("bug_mul_assign", "mul"),
        ],
    )
    def test_pasted_reproducer_prints_the_wrong_number(self, engine_name: str, check: str) -> None:
        """Running the snippet prints the student's number that the comment marks wrong."""
        suite = graded(engine(engine_name))
        result = _check(check, engine_name)
        code = report.reproducer(suite, result)
        assert code is not None
        assert "<-- wrong" in code
        wrong = result.found[-1]
        (line,) = [x for x in _run_python(code).splitlines() if x.startswith(wrong.quantity)]
        _, equals, got, word, want = line.split()
        assert (equals, float(got), word, float(want)) == ("=", wrong.got, "expected", wrong.want)

    def test_shrinks_to_a_small_graph(self) -> None:
        """The =-instead-of-+= bug shrinks to a graph of at most three ops."""
        result = _check("mul", "bug_mul_assign")
        assert result.program is not None
        assert len(result.program["ops"]) <= 3

    def test_a_raising_op_is_marked_on_its_line(self) -> None:
        """When building the graph raises, the line that raises carries the exception."""
        code = report.reproducer(graded(engine("bug_recursion")), _check("neg", "bug_recursion"))
        assert code is not None
        assert (
            code.splitlines()[-1]
            == "b = -a  # raises RecursionError: maximum recursion depth exceeded"
        )
        assert "where your code raised it:\n  File " in _text(graded(engine("bug_recursion")))

    def test_a_long_chain_becomes_a_loop(self) -> None:
        """500 identical steps are written as a for loop, not 500 lines."""
        ops: list[list[object]] = [["lnum", "+", 0, 0]]
        ops += [["bin", "+", 2 + i, 1] for i in range(500)]
        program = {"leaves": [0.5, 0.25], "ops": ops}
        want = expected(program)
        code = render(parse_target("micrograd.engine"), program, want, want, tolerance=Tolerance())
        assert "for _ in range(500):\n    c = c + b" in code
        assert _run_python(code).splitlines() == [
            "c.data = 125.5 expected 125.5",
            "a.grad = 1.0 expected 1.0",
            "b.grad = 500.0 expected 500.0",
        ]

    def test_a_timeout_names_what_hangs(self) -> None:
        """A timeout's reproducer is the case that hangs, with a note and no numbers."""
        suite = graded(engine("bug_hang_exp"))
        code = report.reproducer(suite, _check("exp", "bug_hang_exp"))
        assert code is not None
        assert code.startswith("# this hangs")
        assert "b = a.exp()\nb.backward()" in code


class TestTable:
    """The text report: header with seed and tolerance, one row per check, a summary."""

    def test_table_lists_every_check_and_the_rerun_line(self) -> None:
        """Every check has a row; a failure has its reproducer and the command to rerun it."""
        suite = graded(engine("bug_tanh_rule"))
        text = _text(suite)
        assert "seed 0, 30 cases per check" in text
        assert "tolerance: |yours - expected| <= 1e-09 + 1e-06·|expected|" in text
        for check in suite.checks:
            assert f"\n{check.name} " in text
        assert "FAILED: 26 checks, 25 passed, 1 failed" in text
        assert "--only tanh" in text


class TestJsonReport:
    """The --json report has what the issue promises."""

    def test_json_fields(self) -> None:
        """Top-level passed and checks, each with name, op, status, message and reproducer."""
        data = _json(graded(engine("bug_tanh_rule")))
        assert data["passed"] is False
        assert {"name", "op", "status", "message", "reproducer"} <= set(data["checks"][0])
        assert {c["status"] for c in data["checks"]} <= set(STATUSES)
        (tanh,) = [c for c in data["checks"] if c["name"] == "tanh"]
        assert tanh["mismatches"][0]["quantity"] == "a.grad"


class TestGradescope:
    """results.json for Gradescope: a point per check; optional absent ops are worth nothing."""

    def test_scores(self) -> None:
        """A failing check scores 0 of 1; the total is the number of passed checks."""
        data = _gradescope(graded(engine("bug_tanh_rule")))
        assert (data["score"], data["max_score"]) == (25.0, 26.0)
        (tanh,) = [t for t in data["tests"] if t["name"].startswith("tanh:")]
        assert (tanh["score"], tanh["status"], tanh["visibility"]) == (0.0, "failed", "visible")

    def test_load_error_still_gives_a_file(self) -> None:
        """An engine that cannot load gets a zero score with the reason."""
        data = _gradescope_error("engine.py: SyntaxError")
        assert data["score"] == 0.0
        assert data["tests"][0]["output"] == "engine.py: SyntaxError"


class TestReproducerShapes:
    """Reproducers for raising backward(), wrong intermediates, the root's grad, loops."""

    def test_backward_that_raises_is_marked(self) -> None:
        """When backward() raises, its line carries the exception."""
        suite = graded(engine("bug_returns_float"))
        code = report.reproducer(suite, _check("add", "bug_returns_float"))
        assert code is not None
        assert "c.backward()  # raises AttributeError: 'float' object has no attribute" in code

    def test_root_grad_is_printed_for_the_seed_check(self) -> None:
        """The root cause of an unseeded root is shown with a lone leaf's grad, printed once."""
        suite = graded(engine("bug_no_seed"))
        assert suite.cause is not None
        code = report.reproducer(suite, suite.cause)
        assert code is not None
        assert code.endswith('print("a.grad =", a.grad, "expected", 1.0)  # <-- wrong')

    def test_a_wrong_intermediate_value_is_printed(self) -> None:
        """A wrong node inside the graph is printed before the root."""
        program = {"leaves": [2.0], "ops": [["un", "neg", 0], ["lnum", "*", 1, 0.0]]}
        want = expected(program)
        got = {**want, "data": [2.0, 2.0, 0.0]}
        code = render(parse_target("m.engine"), program, want, got, tolerance=Tolerance())
        assert 'print("b.data =", b.data, "expected", -2.0)  # <-- wrong' in code

    def test_reflected_chains_become_loops_and_stop_where_the_chain_breaks(self) -> None:
        """A step x = 2 - x repeated is a loop; a step not on the previous node ends it."""
        ops: list[list[object]] = [["lnum", "+", 0, 0]]
        ops += [["rnum", "-", 2, 1 + i] for i in range(6)]
        ops += [["bin", "*", 0, 0]]
        program = {"leaves": [0.5], "ops": ops}
        want = expected(program)
        code = render(parse_target("m.engine"), program, want, want, tolerance=Tolerance())
        assert "for _ in range(6):\n    b = 2 - b\ni = a * a\ni.backward()" in code


class TestRerunCommand:
    """The rerun line repeats every option that changes the cases or the verdict."""

    def test_all_options_are_repeated(self) -> None:
        """Paths, required checks, torch, the nn module and the check are all in the command."""
        nn = parse_target(engine("nn_lecture", "MLP"))
        target = replace(parse_target("m.engine", paths=("/x",)), nn=nn)
        suite = SuiteResult(target, "m.Value", Options(require=frozenset({"tanh"})), [])
        assert rerun_command(suite, "tanh") == (
            "micrograd-ref check m.engine --seed 0 --max-examples 100 --timeout 5 --path /x "
            f"--require tanh --nn {nn.spec} --only tanh"
        )


class TestPrintedOutput:
    """What a failing engine printed is shown under its reproducer."""

    def test_output_of_a_failing_check_is_shown(self, tmp_path: Path) -> None:
        """A tanh that prints and is wrong: the table shows the print."""
        source = engine_file("bug_tanh_rule").read_text()
        path = tmp_path / "loud.py"
        path.write_text(
            source.replace("        t = math.tanh(", "        print('hello');t = math.tanh(")
        )
        suite = run_suite(parse_target(str(path)), replace(FAST, only=frozenset({"tanh"})))
        assert "your engine printed:\n    hello" in _text(suite)

    def test_blank_output_is_not_shown(self, tmp_path: Path) -> None:
        """An engine that printed only empty lines gets no empty "printed" block."""
        source = engine_file("bug_tanh_rule").read_text()
        path = tmp_path / "blank.py"
        path.write_text(source.replace("        t = math.tanh(", "        print();t = math.tanh("))
        suite = run_suite(parse_target(str(path)), replace(FAST, only=frozenset({"tanh"})))
        (tanh,) = suite.checks
        assert tanh.output.strip() == ""
        assert tanh.output
        assert "your engine printed" not in _text(suite)


class TestRootCauseAndGroups:
    """The root cause heads every report; the edge group is set apart; conventions are repeated."""

    def test_the_text_report_opens_with_the_root_cause(self) -> None:
        """A hanging backward() is named once, above the table, whose rows say not graded."""
        suite = graded(engine("bug_hang_all"))
        text = _text(suite)
        assert text.index("ROOT CAUSE: backward() never returns") < text.index("check  ")
        assert text.count("# this hangs") == 1
        assert "not graded" in text
        assert all(
            len(line) <= text_format.WIDTH for line in text.splitlines() if "sys.path" not in line
        )

    def test_results_files_carry_the_root_cause(self) -> None:
        """Gradescope's output and the JSON report both hold the root cause."""
        suite = graded(engine("bug_no_seed"))
        assert _gradescope(suite)["output"].startswith(
            "```text\nROOT CAUSE: backward() does not set"
        )
        data = _json(suite)
        assert data["root_cause"]["message"].startswith("backward() does not set")
        assert data["passed"] is False

    def test_the_edge_group_has_its_own_title_and_summary(self) -> None:
        """Edge rows come after their title; the summary counts them apart."""
        text = _text(graded(engine("correct_closures")))
        assert text.index("edge inputs: reported apart") < text.index("deep_chain_5000")
        assert "edge group: 3 of 6 passed (not counted; --strict counts them)" in text
        assert "PASSED: 26 checks, 26 passed" in text

    def test_a_pass_with_ops_missing_says_so_in_its_verdict(self, tmp_path: Path) -> None:
        """An engine with nothing wrong but ops missing passes, headed by how many are missing."""
        path = tmp_path / "engine.py"
        path.write_text(
            engine_file("correct_closures")
            .read_text()
            .replace("def relu(self):", "def _relu(self):")
            .replace("def __rpow__(self, other):", "def _rpow(self, other):")
        )
        text = _text(graded(str(path)))
        assert "PASSED (2 ops missing): 26 checks, 24 passed, 2 unsupported in " in text

    def test_the_rerun_line_repeats_conventions_and_strict(self, tmp_path: Path) -> None:
        """--strict, --backward and --leaf-kwargs are part of the command that reruns a check."""
        target = replace(
            parse_target(engine("correct_closures")),
            backward="backprop",
            leaf_kwargs=(("requires_grad", True),),
        )
        suite = SuiteResult(target, "x.Value", replace(FAST, strict=True), [])
        command = report.rerun_command(suite, "add")
        assert "--strict --backward backprop --leaf-kwargs requires_grad=True --no-torch" in command
        assert target.leaf("2.0") == "Value(2.0, requires_grad=True)"
        assert target.backward_call("c") == "c.backprop()"

    def test_missing_display_packages_are_listed(self, tmp_path: Path) -> None:
        """A plotting package that is not installed becomes a placeholder; the header says so."""
        path = tmp_path / "engine.py"
        path.write_text(
            "import torchviz\nfrom torchviz import make_dot\nmake_dot(1).render()\n"
            "with torchviz.anything(): torchviz.x[0]\n"
            + (ENGINES / "correct_closures.py").read_text()
        )
        suite = run_suite(parse_target(str(path)), replace(FAST, only=frozenset({"add"})))
        assert suite.placeholders == ["torchviz"]
        assert "imported as do-nothing placeholders: torchviz" in _text(suite)


def _without_timings(text: str) -> str:
    return re.sub(r"in \d+\.\d s", "in # s", text)


class TestReproducibility:
    """The same engine, seed and options give the same report; rerun lines reproduce failures."""

    @pytest.mark.parametrize("name", ["bug_exp_assign", "bug_duplicate_visits", "bug_hang_exp"])
    def test_two_runs_give_the_same_report(self, name: str) -> None:
        """Byte for byte, apart from the seconds."""
        first, second = (run_suite(parse_target(engine(name)), FAST) for _ in range(2))
        assert _without_timings(_text(first)) == _without_timings(_text(second))

    def test_a_recursion_trace_does_not_depend_on_where_the_limit_was_hit(
        self, tmp_path: Path
    ) -> None:
        """The recursing frame once, marked repeated; the frames past it, any line, left out."""
        module = tmp_path / "deep.py"
        module.write_text(
            "def walk(n, where):\n"
            "    if n == 0 and where == 'the call':\n"
            "        raise RecursionError('maximum recursion depth exceeded')\n"
            "    if n == 0 and where == 'a line after it':\n"
            "        raise RecursionError('maximum recursion depth exceeded while calling')\n"
            "    if n == 0:\n"
            "        return elsewhere()\n"
            "    return walk(n - 1, where)\n"
            "def elsewhere():\n"
            "    raise RecursionError('maximum recursion depth exceeded in comparison')\n"
        )
        spec = importlib.util.spec_from_file_location("deep", module)
        assert spec is not None
        assert spec.loader is not None
        deep = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(deep)
        traces = set()
        for where in ("the call", "a line after it", "a function it calls"):
            with pytest.raises(RecursionError) as caught:
                deep.walk(30, where)
            traces.add(worker._student_trace(caught.value))
        (trace,) = traces
        assert trace.count('deep.py", line 8, in walk') == 1
        assert trace.endswith("[Previous line repeated]\n")

    @pytest.mark.parametrize(
        ("name", "check"),
        [
            ("bug_exp_assign", "exp"),
            ("bug_duplicate_visits", "reused_node"),
            ("bug_rsub_flipped", "rsub"),
        ],
    )
    def test_the_rerun_line_reproduces_the_failure(self, name: str, check: str) -> None:
        """--only CHECK gives the same status, message and reproducer as the full run."""
        full = graded(engine(name))
        (wanted,) = [c for c in full.checks if c.name == check]
        alone = run_suite(parse_target(engine(name)), replace(FAST, only=frozenset({check})))
        (again,) = alone.checks
        assert (again.status, again.message, again.program) == (
            wanted.status,
            wanted.message,
            wanted.program,
        )
        assert report.rerun_command(full, check).endswith(f"--only {check}")

    def test_local_modules_do_not_change_the_cases_drawn(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The seed alone decides the cases: not which modules of the user's are imported.

        Hypothesis draws now and then a number written in a local module; without
        :func:`~micrograd.oracle.determinism.seed_only`, importing one full of
        numbers in the drawn ranges changes the cases (an editable install, or a
        student's pytest run, would then grade other cases than ``check`` does).
        """
        strategy = check_named("mul").programs({"add", "mul"})
        assert strategy is not None
        before = suite.draw(strategy, Options())
        numbers = ", ".join(f"{k / 7:.6f}" for k in range(-70, 71))
        path = tmp_path / "local_numbers.py"
        path.write_text(f"NUMBERS = [{numbers}]\n")
        spec = importlib.util.spec_from_file_location("local_numbers", path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        monkeypatch.setitem(sys.modules, "local_numbers", module)
        monkeypatch.chdir(tmp_path)
        assert suite.draw(strategy, Options()) == before
        assert not (tmp_path / ".hypothesis").exists()
