"""Engines as students write them: layouts, notebooks, conventions, the grader's own package."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from micrograd.cli import main
from micrograd.oracle import report
from micrograd.oracle.runner import (
    REFERENCE_PACKAGE,
    LoadError,
    Worker,
    build_target,
    parse_target,
)
from micrograd.oracle.suite import CheckResult, run_suite
from tests.oracle.helpers import ENGINES, FAST

CLOSURES = (ENGINES / "correct_closures.py").read_text()
LECTURE_NN = (ENGINES / "nn_lecture.py").read_text()
QUICK = ["--max-examples", "5", "--no-torch"]


def _notebook(path: Path, *cells: str) -> Path:
    """A Jupyter notebook (nbformat 4) with these code cells."""
    body: list[dict[str, object]] = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": c}
        for c in cells
    ]
    path.write_text(json.dumps({"cells": body, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


class TestTheReferenceCannotBeHandedIn:
    """Student code never reaches micrograd-ref's own package."""

    @pytest.mark.parametrize(
        "line", ["from micrograd import Value", "from micrograd.engine import Value"]
    )
    def test_importing_the_grader_is_a_load_error(self, tmp_path: Path, line: str) -> None:
        """An engine that only imports the reference is refused, with the reason."""
        path = tmp_path / "engine.py"
        path.write_text(line + "\n")
        with (
            Worker(parse_target(str(path))) as child,
            pytest.raises(LoadError, match="own package"),
        ):
            child.start()

    def test_a_refused_engine_scores_zero(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Check exits 2 and Gradescope gets 0 points."""
        path = tmp_path / "engine.py"
        path.write_text("from micrograd import Value\n")
        results = tmp_path / "results.json"
        assert main(["check", str(path), *QUICK, "--gradescope", str(results)]) == 2
        assert "hand in your own engine" in capsys.readouterr().err
        assert json.loads(results.read_text())["score"] == 0.0

    @pytest.mark.parametrize("with_init", [True, False])
    def test_karpathys_layout_resolves_to_the_students_files(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_init: bool
    ) -> None:
        """micrograd/engine.py and nn.py are the student's, __init__.py or not, from anywhere."""
        package = tmp_path / "project" / "micrograd"
        package.mkdir(parents=True)
        if with_init:
            (package / "__init__.py").write_text("")
        (package / "engine.py").write_text(CLOSURES)
        (package / "nn.py").write_text(
            LECTURE_NN.replace("from correct_closures import", "from micrograd.engine import")
        )
        monkeypatch.chdir(tmp_path)  # not the project's folder
        nn = parse_target(str(package / "nn.py"), default_class="MLP")
        target = replace(parse_target(str(package / "engine.py")), nn=nn)
        suite = run_suite(target, replace(FAST, only=frozenset({"add", "nn_mlp"})))
        assert suite.loaded == "micrograd.engine.Value"
        assert [(c.name, c.status) for c in suite.checks] == [
            ("add", "passed"),
            ("nn_mlp", "passed"),
        ]

    def test_a_stray_import_of_the_grader_above_the_own_class_is_harmless(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``from micrograd.engine import Value`` left above the student's own Value is no error.

        Seen in a real exercise notebook: the import gets a do-nothing
        placeholder, the student's class is graded, and the report says so.
        """
        path = tmp_path / "engine.py"
        path.write_text("from micrograd.engine import Value\nimport micrograd\n" + CLOSURES)
        assert main(["check", str(path), *QUICK, "--only", "add"]) == 0
        out = " ".join(capsys.readouterr().out.split())  # the header is wrapped
        assert "placeholders: micrograd (micrograd-ref's own package, which graded" in out

    def test_scratch_code_using_the_placeholder_says_why_it_failed(self, tmp_path: Path) -> None:
        """Code that computes with the grader's Value fails with a note about the placeholder."""
        path = tmp_path / "engine.py"
        path.write_text("from micrograd import Value as Ref\nprint(Ref(2.0) + 1)\n" + CLOSURES)
        with Worker(parse_target(str(path))) as child, pytest.raises(LoadError) as caught:
            child.start()
        assert str(caught.value).endswith("it was given a do-nothing placeholder)")

    def test_a_network_on_another_class_is_an_error(self, tmp_path: Path) -> None:
        """--nn checks that the MLP's parameters are instances of the class being graded."""
        (tmp_path / "engine.py").write_text(CLOSURES)
        (tmp_path / "correct_closures.py").write_text(CLOSURES)
        (tmp_path / "nn.py").write_text(LECTURE_NN)  # builds on correct_closures.Value
        nn = parse_target(str(tmp_path / "nn.py"), default_class="MLP")
        target = replace(parse_target(str(tmp_path / "engine.py")), nn=nn)
        (result,) = run_suite(target, replace(FAST, only=frozenset({"nn_mlp"}))).checks
        assert result.status == "error"
        assert "not the Value being graded" in result.message


class TestConventions:
    """Engines driven their own way: named leaves' keywords and another backward."""

    def test_requires_grad_leaves_are_diagnosed_once_then_graded(self, tmp_path: Path) -> None:
        """Without the option, one root cause says what to pass; with it, everything passes."""
        source = CLOSURES.replace(
            "def __init__(self, data, _children=(), _op=''):",
            "def __init__(self, data, _children=(), _op='', requires_grad=False):\n"
            "        self.requires_grad = requires_grad or bool(_children)",
        ).replace(
            "        for v in reversed(topo):\n            v._backward()",
            "        for v in reversed(topo):\n            v._backward()\n"
            "        for v in topo:\n"
            "            if not v.requires_grad:\n"
            "                v.grad = 0",
        )
        path = tmp_path / "engine.py"
        path.write_text(source)
        suite = run_suite(parse_target(str(path)), FAST)
        assert suite.cause is not None
        assert "--leaf-kwargs requires_grad=True" in suite.cause.message
        driven = replace(parse_target(str(path)), leaf_kwargs=(("requires_grad", True),))
        assert run_suite(driven, FAST).passed

    def test_leaves_whose_grad_stays_none_are_diagnosed_the_same_way(self) -> None:
        """Grad starting as None (PyTorch's manner) gives the one root cause too, not 20 failures.

        A grad of None counts as 0 before backward() as after it, so the
        leaves are seen unchanged; the lone leaf of ``root_seed`` is no error.
        """
        target = parse_target(str(ENGINES / "correct_requires_grad.py"))
        suite = run_suite(target, FAST)
        assert suite.cause is not None
        assert suite.cause.message.endswith("rerun with --leaf-kwargs requires_grad=True")
        assert {c.status for c in suite.checks} <= {"not_graded", "unsupported"}
        driven = replace(target, leaf_kwargs=(("requires_grad", True),))
        assert run_suite(driven, FAST).passed

    def test_a_backprop_method_is_suggested_and_used(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """backprop() instead of backward(): the load error names the flag that works."""
        path = tmp_path / "engine.py"
        path.write_text(CLOSURES.replace("def backward(self):", "def backprop(self):"))
        assert main(["check", str(path), *QUICK]) == 2
        assert "rerun with --backward backprop" in capsys.readouterr().err
        assert main(["check", str(path), *QUICK, "--backward", "backprop"]) == 0

    def test_a_module_function_backpropagates(self, tmp_path: Path) -> None:
        """back_prop(root), a function of the engine's module, is called with the root."""
        path = tmp_path / "engine.py"
        path.write_text(
            CLOSURES.replace("    def backward(self):", "    def _walk(self):")
            + "\n\ndef back_prop(root):\n    root._walk()\n"
        )
        target = replace(parse_target(str(path)), backward="back_prop")
        suite = run_suite(target, replace(FAST, only=frozenset({"mul"})))
        assert suite.passed
        assert suite.target.backward_call("c") == "back_prop(c)"
        assert suite.target.import_line().endswith("from engine import Value, back_prop")

    def test_numbers_under_other_names_are_one_root_cause(self, tmp_path: Path) -> None:
        """An engine keeping ``.value`` instead of ``.data``: one cause, naming what it holds.

        Every check would otherwise err the same way reading ``.data``.
        """
        path = tmp_path / "engine.py"
        path.write_text(CLOSURES.replace(".data", ".value"))
        suite = run_suite(parse_target(str(path)), FAST)
        assert suite.cause is not None
        assert suite.cause.message.startswith(
            "every check fails reading the numbers: AttributeError: Value has no 'data'; "
            "it holds value, grad."
        )
        assert "`data = property(lambda self: self.value)`" in suite.cause.message
        assert {c.status for c in suite.counted()} <= {"not_graded", "unsupported"}

    def test_an_engine_that_takes_no_numbers_has_those_forms_unsupported(
        self, tmp_path: Path
    ) -> None:
        """``a + 2`` reading 2 as a Value (the lecture before it wraps numbers) is no bug.

        The forms with a number are unsupported, with the line that adds them;
        the same AttributeError from an op's own code stays an error.
        """
        path = tmp_path / "engine.py"
        path.write_text(
            CLOSURES.replace(
                "        other = other if isinstance(other, Value) else Value(other)\n", ""
            ).replace("math.exp(self.data)", "self.data.exp()")
        )
        only = frozenset({"add", "add_number", "radd", "mul_number", "exp"})
        suite = run_suite(parse_target(str(path)), replace(FAST, only=only))
        statuses = {c.name: c.status for c in suite.checks}
        assert statuses == {
            "add": "passed",
            "add_number": "unsupported",
            "radd": "unsupported",
            "mul_number": "unsupported",
            "exp": "error",
        }
        (add_number,) = [c for c in suite.checks if c.name == "add_number"]
        assert add_number.message.startswith("it takes no plain numbers: raised AttributeError")
        assert "other = other if isinstance(other, Value) else Value(other)" in add_number.message

    @pytest.mark.parametrize("text", ["requires_grad", "=True", "x=[", "1x=2"])
    def test_bad_leaf_keywords_are_usage_errors(self, text: str) -> None:
        """--leaf-kwargs takes KEY=LITERAL pairs."""
        with pytest.raises(SystemExit):
            main(["check", "engine.py", "--leaf-kwargs", text])


class TestNotebooksAndFolders:
    """Notebooks run up to the engine's cell; folders are searched for their engine."""

    def test_a_notebook_runs_up_to_its_class(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Shell and magic lines are skipped, training cells below the class are not run."""
        path = _notebook(
            tmp_path / "mygrad.ipynb",
            "!pip install numpy\n%matplotlib inline\nimport math",
            CLOSURES.split("\n", 1)[1],
            "raise SystemExit('training would start here')",
        )
        assert main(["check", str(path), *QUICK, "--only", "add,tanh"]) == 0
        out = capsys.readouterr().out
        assert "code cells 1-2 of 3 ran" in out

    def test_a_notebook_with_its_network(self, tmp_path: Path) -> None:
        """--nn on the same notebook grades the MLP built on the notebook's own Value."""
        nn_cell = LECTURE_NN.replace("from correct_closures import Value", "")
        path = _notebook(tmp_path / "nb.ipynb", CLOSURES, nn_cell, "1/0")
        target = build_target(str(path), str(path))
        suite = run_suite(target, replace(FAST, only=frozenset({"nn_mlp"})))
        assert [c.status for c in suite.checks] == ["passed"]

    def test_a_backward_function_in_a_later_cell_is_run_too(self, tmp_path: Path) -> None:
        """With --backward NAME, the notebook runs up to the cell defining that function.

        Students often write the topological sort as a function in the cell
        after the class, and a training loop below it.
        """
        engine = CLOSURES.replace("    def backward(self):", "    def _walk(self):")
        walk = "def back_prop(root):\n    root._walk()"
        path = _notebook(tmp_path / "nb.ipynb", engine, walk, "1/0")
        target = build_target(str(path), backward="back_prop")
        suite = run_suite(target, replace(FAST, only=frozenset({"mul"})))
        assert [(c.name, c.status) for c in suite.checks] == [("mul", "passed")]
        assert "defining Value or back_prop did not" in target.describe()

    def test_without_the_option_the_error_names_the_later_function(self, tmp_path: Path) -> None:
        """The load error points at a backward-looking function in a cell that did not run."""
        engine = CLOSURES.replace("    def backward(self):", "    def _walk(self):")
        walk = "def back_prop(root):\n    root._walk()"
        path = _notebook(tmp_path / "nb.ipynb", engine, walk, "1/0")
        with Worker(build_target(str(path))) as child, pytest.raises(LoadError) as caught:
            child.start()
        assert str(caught.value).endswith(
            "it has back_prop(root) in code cell 2: rerun with --backward back_prop"
        )

    def test_a_raising_cell_points_at_the_cell(self, tmp_path: Path) -> None:
        """An error in the cell defining the class is a load error naming the cell and line."""
        path = _notebook(tmp_path / "nb.ipynb", "x = 1", "y = undefined_name\n" + CLOSURES)
        target = parse_target(str(path))
        with Worker(target) as child, pytest.raises(LoadError) as caught:
            child.start()
        assert 'File "nb.ipynb", code cell 2, line 1' in target.explain_trace(caught.value.trace)

    def test_a_raising_scratch_cell_is_skipped_as_jupyter_would(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A cell above the class that raises (or does not parse) is skipped; the report says so.

        Jupyter goes on to the next cell after an error; a cell defining the
        class is never skipped.
        """
        path = _notebook(
            tmp_path / "nb.ipynb", "import math\nx = 1 / 0", "def broken(:", CLOSURES, "1/0"
        )
        assert main(["check", str(path), *QUICK, "--only", "add"]) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert "code cell 1 raised ZeroDivisionError: division by zero; it defines" in out
        assert "code cell 2 raised SyntaxError" in out

    def test_a_notebook_without_the_class(self, tmp_path: Path) -> None:
        """The classes it defines are listed, with the target to use."""
        path = _notebook(tmp_path / "nb.ipynb", "class Scalar:\n    def backward(self): pass")
        with pytest.raises(LoadError, match="Scalar"):
            parse_target(str(path))

    def test_a_folder_in_karpathys_layout(self, tmp_path: Path) -> None:
        """A submission folder's micrograd/engine.py is found and graded."""
        (tmp_path / "micrograd").mkdir()
        shutil.copy(ENGINES / "correct_closures.py", tmp_path / "micrograd" / "engine.py")
        target = parse_target(str(tmp_path))
        assert Path(target.location) == tmp_path / "micrograd" / "engine.py"

    def test_a_folder_without_an_engine(self, tmp_path: Path) -> None:
        """No file defines the class: a load error that says so."""
        (tmp_path / "notes.py").write_text("x = 1\n")
        with pytest.raises(LoadError):
            parse_target(str(tmp_path))

    def test_a_class_under_another_name_is_suggested(self, tmp_path: Path) -> None:
        """engine.py defining Scalar, checked as Value: the message suggests engine.py:Scalar."""
        path = tmp_path / "engine.py"
        path.write_text(CLOSURES.replace("class Value", "class Scalar"))
        with (
            Worker(parse_target(str(path))) as child,
            pytest.raises(LoadError, match=r"engine\.py:Scalar"),
        ):
            child.start()

    def test_newer_syntax_names_the_python_grading_it(self, tmp_path: Path) -> None:
        """A syntax error says which Python graded it."""
        path = tmp_path / "engine.py"
        path.write_text("x = (\n")
        with (
            Worker(parse_target(str(path))) as child,
            pytest.raises(LoadError, match="graded with Python 3"),
        ):
            child.start()

    def test_a_name_the_standard_library_lacks_names_the_python_too(self, tmp_path: Path) -> None:
        """``from typing import override`` (new in 3.12) on an older Python says which graded it.

        Another ImportError (a package of the student's) says nothing of versions.
        """
        path = tmp_path / "engine.py"
        path.write_text("from typing import no_such_name_yet\n" + CLOSURES)
        with Worker(parse_target(str(path))) as child, pytest.raises(LoadError) as caught:
            child.start()
        assert str(caught.value).endswith(
            f"graded with Python {sys.version_info.major}.{sys.version_info.minor}: "
            "is it from a newer Python?"
        )
        (tmp_path / "helpers.py").write_text("")
        path.write_text("from helpers import no_such_name\n" + CLOSURES)
        with Worker(parse_target(str(path))) as child, pytest.raises(LoadError) as caught:
            child.start()
        assert "newer Python" not in str(caught.value)


class TestCommandLine:
    """The conventions and the edge group from the command line, in check and grade."""

    def test_leaf_keywords_from_the_command_line(self, tmp_path: Path) -> None:
        """--leaf-kwargs makes every leaf with the keyword, which this engine's leaves need."""
        path = tmp_path / "engine.py"
        path.write_text(
            CLOSURES.replace(
                "    def __init__(self, data, _children=(), _op=''):\n",
                "    def __init__(self, data, _children=(), _op='', requires_grad=None):\n"
                "        if requires_grad is None and not (_children or isinstance(data, int)):\n"
                "            raise ValueError('a leaf needs requires_grad')\n",
            )
        )
        args = ["check", str(path), *QUICK, "--only", "add,tanh"]
        assert main([*args, "--leaf-kwargs", "requires_grad=True"]) == 0
        assert main(args) == 1

    def test_what_an_engine_printed_before_failing_to_load(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A load error shows what the engine printed, and where it raised."""
        path = tmp_path / "engine.py"
        path.write_text("print('loading my data')\nopen('data.csv')\n")
        assert main(["check", str(path), *QUICK]) == 2
        err = capsys.readouterr().err
        assert "it printed:\n    loading my data" in err
        assert f'File "{path}", line 2' in err

    def test_grade_passes_conventions_and_strict_on(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Every submission of grade is checked with --strict, --backward and --leaf-kwargs."""
        subs = tmp_path / "subs"
        (subs / "ann").mkdir(parents=True)
        (subs / "ann" / "engine.py").write_text(
            CLOSURES.replace("def backward(self):", "def backprop(self, scale=1.0):")
        )
        (subs / "bo").mkdir()
        _notebook(
            subs / "bo" / "work.ipynb",
            CLOSURES.replace("def backward(self):", "def backprop(self):"),
        )
        out = tmp_path / "out"
        args = ["--out", str(out), *QUICK, "--only", "add", "--backward", "backprop"]
        args += ["--leaf-kwargs", "_op=1", "--strict"]
        assert main(["grade", str(subs), *args]) == 1  # --only: incomplete, not full marks
        assert "0 of 2 submissions passed with full marks, 2 incomplete" in capsys.readouterr().out
        report = json.loads((out / "ann.json").read_text())
        assert report["strict"] is True
        assert "--backward backprop --leaf-kwargs _op=1" in report["rerun"]

    def test_the_plugin_reports_a_root_cause_and_strict(self, pytester: pytest.Pytester) -> None:
        """Each test the root cause breaks fails with it; --micrograd-strict is in the header."""
        engine = pytester.path / "engine.py"
        engine.write_text(CLOSURES.replace("        self.grad = 1\n", ""))
        selected = "(add or sub or mul) and not number and not radd and not rsub and not rmul"
        result = pytester.runpytest_subprocess(
            f"--micrograd-impl={engine}", "--micrograd-strict", "-k", selected
        )
        result.assert_outcomes(failed=3, deselected=29)
        result.stdout.fnmatch_lines(
            ["reproduce with: pytest * --micrograd-strict", "root cause: backward() does not set*"]
        )


class TestLoadingEdges:
    """Odd but real ways a submission is laid out, each loaded or refused with a reason."""

    def test_a_file_of_the_graders_own_package_is_refused(self) -> None:
        """Pointing check at a file inside micrograd-ref itself grades nothing."""
        worker_file = Path(REFERENCE_PACKAGE) / "oracle" / "worker.py"
        target = parse_target(f"{worker_file}:CappedText")
        with Worker(target) as child, pytest.raises(LoadError, match="micrograd-ref's own"):
            child.start()

    def test_a_missing_package_that_is_not_for_plots_is_an_error(self, tmp_path: Path) -> None:
        """Only display packages get placeholders: a missing library the engine uses is an error."""
        path = tmp_path / "engine.py"
        path.write_text("import no_such_library_anywhere\n" + CLOSURES)
        with Worker(parse_target(str(path))) as child, pytest.raises(LoadError, match="no_such"):
            child.start()

    def test_a_package_of_the_same_name_elsewhere_is_named(self, tmp_path: Path) -> None:
        """A regular package called like the student's folder, earlier on the path, is named."""
        other = tmp_path / "other" / "pkg"
        other.mkdir(parents=True)
        (other / "__init__.py").write_text("")
        (other / "engine.py").write_text("")
        mine = tmp_path / "project" / "pkg"
        mine.mkdir(parents=True)
        (mine / "engine.py").write_text(CLOSURES)
        (mine / "nn.py").write_text("from pkg.engine import Value\n")
        target = parse_target(str(mine / "engine.py"), paths=(str(tmp_path / "other"),))
        assert target.module == "pkg.engine"
        with Worker(target) as child, pytest.raises(LoadError, match="shadows yours"):
            child.start()

    def test_a_file_named_like_a_module_the_grader_uses(self, tmp_path: Path) -> None:
        """json.py is loaded under another name, so that it shadows nothing."""
        path = tmp_path / "json.py"
        path.write_text(CLOSURES)
        suite = run_suite(parse_target(str(path)), replace(FAST, only=frozenset({"add"})))
        assert suite.loaded == "student_json.Value"
        assert suite.passed

    def test_no_backward_and_nothing_like_it(self, tmp_path: Path) -> None:
        """A class with no backward-like method: the error says so, without a suggestion."""
        path = tmp_path / "engine.py"
        path.write_text("class Value:\n    def __init__(self, data):\n        self.data = data\n")
        with Worker(parse_target(str(path))) as child, pytest.raises(LoadError) as caught:
            child.start()
        assert str(caught.value).endswith(
            "has no method backward() and its module no function backward"
        )

    def test_an_nn_module_importing_the_grader_is_an_error(self, tmp_path: Path) -> None:
        """nn.py with from micrograd.engine import Value, and no micrograd of the student's."""
        (tmp_path / "engine.py").write_text(CLOSURES)
        (tmp_path / "nn.py").write_text(
            LECTURE_NN.replace("from correct_closures import", "from micrograd.engine import")
        )
        nn = parse_target(str(tmp_path / "nn.py"), default_class="MLP")
        target = replace(parse_target(str(tmp_path / "engine.py")), nn=nn)
        (result,) = run_suite(target, replace(FAST, only=frozenset({"nn_mlp"}))).checks
        assert result.status == "error"
        assert "the MLP is built on micrograd-ref's own package" in result.message

    def test_the_import_line_of_a_package_member(self, tmp_path: Path) -> None:
        """A member of a package is imported through it; a folder without __init__.py too."""
        package = tmp_path / "mygrad"
        package.mkdir()
        (package / "engine.py").write_text(CLOSURES)
        (package / "nn.py").write_text("from mygrad.engine import Value\n")
        namespace = parse_target(str(package / "engine.py"))
        assert namespace.module == "mygrad.engine"
        assert namespace.import_line() == (
            f"import sys, types; sys.path.insert(0, {str(tmp_path)!r})\n"
            "# your folder mygrad/, not an installed mygrad:\n"
            "package = sys.modules['mygrad'] = types.ModuleType('mygrad')\n"
            f"package.__path__ = [{str(package)!r}]\n"
            "from mygrad.engine import Value"
        )
        (package / "__init__.py").write_text("")
        regular = parse_target(str(package / "engine.py"))
        assert regular.import_line() == (
            f"import sys; sys.path.insert(0, {str(tmp_path)!r})\nfrom mygrad.engine import Value"
        )

    def test_a_reproducer_of_karpathys_layout_runs_the_students_files(self, tmp_path: Path) -> None:
        """Pasted where micrograd-ref is installed, the nn import line gets the student's engine.

        Their ``micrograd/`` has no ``__init__.py``, so a plain ``sys.path``
        entry would lose to the installed ``micrograd``, and their ``nn.py``'s
        ``from micrograd.engine import Value`` would build on the reference.
        """
        package = tmp_path / "micrograd"
        package.mkdir()
        (package / "engine.py").write_text(CLOSURES)
        nn_text = (ENGINES / "nn_lecture.py").read_text()
        (package / "nn.py").write_text(
            nn_text.replace("from correct_closures import", "from micrograd.engine import")
        )
        nn = parse_target(str(package / "nn.py"), default_class="MLP")
        weight = "MLP(2, [1]).parameters()[0]"
        code = f"{nn.import_line()}\nprint(sys.modules[{weight}.__module__].__file__)"
        ran = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert ran.stdout.strip() == str(package / "engine.py")

    def test_relative_imports_make_a_package_member(self, tmp_path: Path) -> None:
        """--nn pkg/nn.py with from .engine import Value loads as pkg.nn, beside pkg.engine."""
        package = tmp_path / "pkg"
        package.mkdir()
        (package / "engine.py").write_text(CLOSURES)
        (package / "nn.py").write_text(
            LECTURE_NN.replace("from correct_closures import", "from .engine import")
        )
        nn = parse_target(str(package / "nn.py"), default_class="MLP")
        assert nn.module == "pkg.nn"
        target = replace(parse_target(str(package / "engine.py")), nn=nn)
        (result,) = run_suite(target, replace(FAST, only=frozenset({"nn_mlp"}))).checks
        assert result.status == "passed"

    def test_a_folder_that_cannot_be_a_package(self, tmp_path: Path) -> None:
        """Relative imports in a folder named my-grad: loaded as a plain file, as Python would."""
        folder = tmp_path / "my-grad"
        folder.mkdir()
        (folder / "nn.py").write_text("from .engine import Value\n")
        assert parse_target(str(folder / "nn.py")).module == "nn"

    def test_a_failing_notebook_engine_is_reproduced_in_a_new_cell(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The reproducer of a notebook's engine is pasted after its last cell that ran."""
        wrong = CLOSURES.replace("(1 - t ** 2) * out.grad", "(1 - t) * out.grad")
        path = _notebook(tmp_path / "nb.ipynb", "import math", wrong, "train()")
        assert main(["check", str(path), *QUICK, "--only", "tanh"]) == 1
        assert "# in a new cell after code cell 2 of nb.ipynb" in capsys.readouterr().out

    def test_traceback_lines_outside_the_cells_are_left_as_they_are(self, tmp_path: Path) -> None:
        """A line the notebook does not have (the module's header) keeps the module's name."""
        target = parse_target(str(_notebook(tmp_path / "nb.ipynb", CLOSURES)))
        trace = f'  File "{target.location}", line 1, in <module>\n'
        assert target.explain_trace(trace) == trace


def _statuses(path: Path, *, only: frozenset[str] = frozenset()) -> dict[str, str]:
    """``{check: status}`` of a quick run on the engine at ``path``."""
    suite = run_suite(parse_target(str(path)), replace(FAST, only=only))
    return {c.name: c.status for c in suite.checks}


def _mlp_whose_call_is_named(tmp_path: Path, method: str) -> CheckResult:
    """``nn_mlp`` of the lecture's MLP whose ``__call__`` is called ``method`` instead."""
    (tmp_path / "engine.py").write_text(CLOSURES)
    (tmp_path / "nn.py").write_text(
        LECTURE_NN.replace("from correct_closures import", "from engine import").replace(
            "    def __call__(self, x):\n        for layer",
            f"    def {method}(self, x):\n        for layer",
        )
    )
    nn = parse_target(str(tmp_path / "nn.py"), default_class="MLP")
    target = replace(parse_target(str(tmp_path / "engine.py")), nn=nn)
    (result,) = run_suite(target, replace(FAST, only=frozenset({"nn_mlp"}))).checks
    return result


class TestVerdictsSeenOnPublishedEngines:
    """Verdicts that were wrong on engines people published, each on an engine written for it."""

    def test_a_type_error_inside_the_students_method_is_an_error(self, tmp_path: Path) -> None:
        """A crash in their own ``__add__`` is a bug to fix, never 'unsupported' (which passes)."""
        path = tmp_path / "engine.py"
        path.write_text(
            CLOSURES.replace(
                "isinstance(other, Value) else Value(other)\n        out = Value(self.data + ",
                "isinstance(self, other) else Value(other)\n        out = Value(self.data + ",
                1,
            )
        )
        suite = run_suite(parse_target(str(path)), replace(FAST, only=frozenset({"add"})))
        (add,) = suite.checks
        assert add.status == "error"
        assert "isinstance() arg 2 must be a type" in add.message
        assert not suite.passed

    def test_python_refusing_the_operands_is_unsupported(self, tmp_path: Path) -> None:
        """No ``__rtruediv__`` (Python's own TypeError) is a missing op, not an error."""
        path = tmp_path / "engine.py"
        path.write_text(
            CLOSURES.replace("def __rtruediv__(self, other):", "def _rtruediv(self, other):")
        )
        assert _statuses(path, only=frozenset({"rdiv"})) == {"rdiv": "unsupported"}

    def test_a_number_exponent_read_as_a_value_is_told_to_use_it_as_it_is(
        self, tmp_path: Path
    ) -> None:
        """``other.data`` on the 2 of ``a ** 2``: the advice is to use it, not to wrap it."""
        path = tmp_path / "engine.py"
        path.write_text(
            CLOSURES.replace(
                "Value(self.data ** other, (self,)", "Value(self.data ** other.data, (self,)"
            )
        )
        suite = run_suite(parse_target(str(path)), replace(FAST, only=frozenset({"pow_int"})))
        (power,) = suite.checks
        assert power.status == "unsupported"
        assert "in __pow__" in power.message
        assert "use it as it is" in power.message
        assert "wrap" not in power.message

    def test_ops_the_class_lacks_stay_unsupported_under_a_root_cause(self, tmp_path: Path) -> None:
        """An unseeded root breaks every check, but a missing relu is still a missing op."""
        path = tmp_path / "engine.py"
        path.write_text(
            CLOSURES.replace("def relu(self):", "def _relu(self):")
            .replace("def sigmoid(self):", "def _sigmoid(self):")
            .replace("        self.grad = 1\n", "")
        )
        statuses = _statuses(path)
        assert statuses["relu"] == statuses["sigmoid"] == "unsupported"
        assert {statuses[name] for name in ("add", "tanh", "exp", "reused_node")} == {"not_graded"}

    def test_a_backward_refusing_plain_leaves_suggests_requires_grad(self, tmp_path: Path) -> None:
        """backward() raising for leaves without requires_grad: one cause, naming the option."""
        path = tmp_path / "engine.py"
        path.write_text(
            CLOSURES.replace(
                "def __init__(self, data, _children=(), _op=''):",
                "def __init__(self, data, _children=(), _op='', requires_grad=False):\n"
                "        self.requires_grad = requires_grad or any(\n"
                "            c.requires_grad for c in _children)",
            ).replace(
                "    def backward(self):\n",
                "    def backward(self):\n"
                "        if not self.requires_grad:\n"
                "            raise RuntimeError('element 0 of tensors does not require grad')\n",
            )
        )
        suite = run_suite(parse_target(str(path)), FAST)
        assert suite.cause is not None
        assert suite.cause.message.startswith("backward() raises RuntimeError on every graph")
        assert suite.cause.message.endswith("rerun with --leaf-kwargs requires_grad=True")
        driven = replace(parse_target(str(path)), leaf_kwargs=(("requires_grad", True),))
        assert run_suite(driven, FAST).passed

    def test_numbers_the_grader_cannot_read_are_not_said_to_raise(self, tmp_path: Path) -> None:
        """Their code does not raise when only the grader's read fails: the snippet says so."""
        path = tmp_path / "engine.py"
        path.write_text(CLOSURES.replace(".data", ".val"))
        suite = run_suite(parse_target(str(path)), FAST)
        assert suite.cause is not None
        assert "`data = property(lambda self: self.val)`" in suite.cause.message
        code = report.reproducer(suite, suite.cause)
        assert code is not None
        assert "raises" not in code
        assert "# the grader reads these as numbers: AttributeError: Value has no 'data'" in code

    def test_a_missing_operator_is_said_to_raise_what_python_raises(self, tmp_path: Path) -> None:
        """With ``--require radd``, the snippet's comment is Python's TypeError, as when pasted."""
        path = tmp_path / "engine.py"
        path.write_text(CLOSURES.replace("def __radd__(self, other):", "def _radd(self, other):"))
        options = replace(FAST, only=frozenset({"radd"}), require=frozenset({"radd"}))
        suite = run_suite(parse_target(str(path)), options)
        (radd,) = suite.checks
        assert radd.status == "failed"
        code = report.reproducer(suite, radd)
        assert code is not None
        assert "# raises TypeError: Value has no __radd__" in code

    def test_an_mlp_run_through_forward_is_graded(self, tmp_path: Path) -> None:
        """An MLP with ``forward()``, no ``__call__`` (as in PyTorch), is graded, and passes."""
        result = _mlp_whose_call_is_named(tmp_path, "forward")
        assert (result.status, result.message) == (
            "passed",
            "3 networks agree; assumed hidden tanh, output tanh",
        )

    def test_the_network_counts_in_the_score_of_check_nn(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``check --nn`` scores the network too: one point more than the engine's checks."""
        (tmp_path / "engine.py").write_text(CLOSURES)
        (tmp_path / "nn.py").write_text(
            LECTURE_NN.replace("from correct_closures import", "from engine import")
        )
        args = [str(tmp_path / "engine.py"), "--nn", str(tmp_path / "nn.py"), *QUICK]
        assert main(["check", *args, "--only", "add,nn_mlp"]) == 0
        assert "score: 2 of 27 points" in capsys.readouterr().out

    def test_float32_numbers_are_named_as_the_cause(self, tmp_path: Path) -> None:
        """A right formula in numpy.float32 misses the tolerance; the message says why."""
        pytest.importorskip("numpy")
        path = tmp_path / "engine.py"
        path.write_text(
            "import numpy as np\n"
            + CLOSURES.replace(
                "        self.data = data\n", "        self.data = np.float32(data)\n"
            )
        )
        suite = run_suite(parse_target(str(path)), replace(FAST, only=frozenset({"sub"})))
        (sub,) = suite.checks
        assert sub.status == "failed"
        assert sub.message.endswith(
            "your numbers are numpy.float32, which keeps too few digits for a relative "
            "tolerance of 1e-06: compute in Python floats or numpy.float64"
        )
        float64 = tmp_path / "wide.py"
        float64.write_text(path.read_text().replace("np.float32(data)", "np.float64(data)"))
        assert run_suite(parse_target(str(float64)), replace(FAST, only=frozenset({"sub"}))).passed

    def test_an_edge_check_of_a_missing_op_is_unsupported_too(self, tmp_path: Path) -> None:
        """No sigmoid: sigmoid_edge is as missing as sigmoid, never 'not graded'."""
        path = tmp_path / "engine.py"
        path.write_text(CLOSURES.replace("def sigmoid(self):", "def _sigmoid(self):"))
        statuses = _statuses(path, only=frozenset({"sigmoid", "sigmoid_edge"}))
        assert statuses == {"sigmoid": "unsupported", "sigmoid_edge": "unsupported"}

    def test_a_required_missing_operator_breaks_no_graph_check(self, tmp_path: Path) -> None:
        """--require radd fails a missing __radd__, but a + b still builds the graph checks."""
        path = tmp_path / "engine.py"
        path.write_text(CLOSURES.replace("def __radd__(self, other):", "def _radd(self, other):"))
        options = replace(FAST, require=frozenset({"radd"}))
        statuses = {c.name: c.status for c in run_suite(parse_target(str(path)), options).checks}
        assert statuses["radd"] == "failed"
        assert statuses["deep_chain"] == statuses["reused_node"] == "passed"

    def test_an_mlp_that_cannot_be_run_is_unsupported(self, tmp_path: Path) -> None:
        """An MLP with neither ``__call__`` nor ``forward()`` cannot be compared: unsupported."""
        result = _mlp_whose_call_is_named(tmp_path, "run")
        assert result.status == "unsupported"
        assert "MLP objects can be neither called nor forward()ed" in result.message
