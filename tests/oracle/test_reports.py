"""Reports: reproducers that show the wrong number when pasted, the JSON report, Gradescope's."""

from __future__ import annotations

import subprocess
import sys

import pytest

from micrograd.oracle import report
from micrograd.oracle.compare import Tolerance, expected
from micrograd.oracle.reproducer import render
from micrograd.oracle.runner import parse_target
from micrograd.oracle.suite import STATUSES, CheckResult
from tests.oracle.helpers import engine, graded


def _run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=30
    )
    return done.stdout + done.stderr


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
            ("bug_mul_assign", "reused_node"),
        ],
    )
    def test_pasted_reproducer_prints_the_wrong_number(self, engine_name: str, check: str) -> None:
        """Running the snippet prints the student's number that the comment marks wrong."""
        suite = graded(engine(engine_name))
        result = _check(check, engine_name)
        code = report.reproducer(suite, result)
        assert code is not None
        assert "<-- wrong" in code
        printed = [float(line) for line in _run_python(code).split()]
        assert result.found[-1].got in printed

    def test_shrinks_to_a_small_graph(self) -> None:
        """The =-instead-of-+= bug shrinks to a graph of at most three ops."""
        result = _check("reused_node", "bug_mul_assign")
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

    def test_a_long_chain_becomes_a_loop(self) -> None:
        """500 identical steps are written as a for loop, not 500 lines."""
        ops: list[list[object]] = [["lnum", "+", 0, 0]]
        ops += [["bin", "+", 2 + i, 1] for i in range(500)]
        program = {"leaves": [0.5, 0.25], "ops": ops}
        want = expected(program)
        code = render(parse_target("micrograd.engine"), program, want, want, tolerance=Tolerance())
        assert "for _ in range(500):\n    c = c + b" in code
        assert _run_python(code).split() == ["125.5", "1.0", "500.0"]

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
        text = report.table(suite)
        assert "seed 0, 30 cases per check" in text
        assert "tolerance: |yours - expected| <= 1e-09 + 1e-06·|expected|" in text
        for check in suite.checks:
            assert f"\n{check.name} " in text
        assert "FAILED: 27 checks, 26 passed, 1 failed" in text
        assert "--only tanh" in text


class TestJsonReport:
    """The --json report has what the issue promises."""

    def test_json_fields(self) -> None:
        """Top-level passed and checks, each with name, op, status, message and reproducer."""
        data = report.to_json(graded(engine("bug_tanh_rule")))
        assert data["passed"] is False
        assert {"name", "op", "status", "message", "reproducer"} <= set(data["checks"][0])
        assert {c["status"] for c in data["checks"]} <= set(STATUSES)
        (tanh,) = [c for c in data["checks"] if c["name"] == "tanh"]
        assert tanh["mismatches"][0]["quantity"] == "a.grad"


class TestGradescope:
    """results.json for Gradescope: a point per check; optional absent ops are worth nothing."""

    def test_scores(self) -> None:
        """A failing check scores 0 of 1; the total is the number of passed checks."""
        data = report.gradescope(graded(engine("bug_tanh_rule")))
        assert (data["score"], data["max_score"]) == (26.0, 27.0)
        (tanh,) = [t for t in data["tests"] if t["name"].startswith("tanh:")]
        assert (tanh["score"], tanh["status"], tanh["visibility"]) == (0.0, "failed", "visible")

    def test_load_error_still_gives_a_file(self) -> None:
        """An engine that cannot load gets a zero score with the reason."""
        data = report.gradescope_error("engine.py: SyntaxError")
        assert data["score"] == 0.0
        assert data["tests"][0]["output"] == "engine.py: SyntaxError"
