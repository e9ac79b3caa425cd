"""The pytest plugin: one test per check with --micrograd-impl, and nothing without it.

The inner pytest runs in a subprocess (coverage follows it there): the plugin
starts worker processes and Hypothesis, which an in-process pytester run shares
with the outer session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from micrograd.install_check import ADVICE
from micrograd.oracle.checks import CATALOGUE
from tests.oracle.helpers import ENGINES, engine, engine_file, karpathy_micrograd
from tests.test_install_check import _install, _our_files, _uninstall

CHECKS = len(CATALOGUE)

CLOSURES = (ENGINES / "correct_closures.py").read_text()

NOT_IN_PYTEST = (
    'import sys\nif "pytest" in sys.modules:\n    raise RuntimeError("imported by pytest")\n'
)
"""Prepended to an engine: its import fails in pytest's process, and only there."""


PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _write(folder: Path, name: str, source: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return path


class TestPytestPlugin:
    """pytest --micrograd-impl=engine.py runs the oracle's checks as tests."""

    def test_inert_without_the_option(self, pytester: pytest.Pytester) -> None:
        """Without --micrograd-impl no test is added and the header says nothing."""
        pytester.makepyfile("def test_one():\n    pass\n")
        result = pytester.runpytest_subprocess()
        result.assert_outcomes(passed=1)
        assert "micrograd-ref oracle" not in result.stdout.str()

    def test_one_test_per_check_with_the_failure_reproducer(
        self, pytester: pytest.Pytester
    ) -> None:
        """A planted bug fails its check's test with the reproducer; the header shows the flags."""
        result = pytester.runpytest_subprocess(
            f"--micrograd-impl={engine('bug_tanh_rule')}", "--micrograd-max-examples=5"
        )
        # The edge group: tanh_edge is not graded (tanh failed); three lecture habits xfail.
        result.assert_outcomes(passed=27, failed=1, skipped=1, xfailed=3)
        result.stdout.fnmatch_lines(
            [
                "micrograd-ref oracle: checking *bug_tanh_rule.py:Value",
                "reproduce with: pytest --micrograd-impl=* --micrograd-seed=0 "
                "--micrograd-max-examples=5 --micrograd-timeout=5",
                "*_ tanh _*",
                "failed: a.grad is *, expected 0.7864477329659274",
                "*<-- wrong",
            ]
        )

    def test_unsupported_ops_skip_unless_required(
        self, pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """An absent op is a skip, or a failure when --micrograd-require names it."""
        folder = tmp_path_factory.mktemp("no_tanh")
        path = _write(folder, "engine.py", CLOSURES.replace("def tanh(", "def _tanh("))
        args = [f"--micrograd-impl={path}", "--micrograd-max-examples=3", "-k", "tanh and not edge"]
        skipped = pytester.runpytest_subprocess(*args)
        skipped.assert_outcomes(skipped=1, deselected=31)
        skipped.stdout.fnmatch_lines(
            [
                "*- micrograd-ref score -*",
                "skipped, not passed: 1 check of ops your engine does not have (tanh), worth 0 "
                "points when graded",
            ]
        )
        required = pytester.runpytest_subprocess(*args, "--micrograd-require=tanh")
        required.assert_outcomes(failed=1, deselected=31)

    def test_nn_adds_its_test(self, pytester: pytest.Pytester) -> None:
        """--micrograd-nn adds the test nn_mlp, named in the header's flags."""
        result = pytester.runpytest_subprocess(
            f"--micrograd-impl={engine('correct_closures')}",
            f"--micrograd-nn={engine('nn_lecture', 'MLP')}",
            "-k",
            "nn_mlp",
        )
        result.assert_outcomes(passed=1, deselected=32)
        result.stdout.fnmatch_lines(["reproduce with: pytest * --micrograd-nn=*nn_lecture.py:MLP"])

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--micrograd-impl=missing.py"], "--micrograd-impl: missing.py: no such file"),
            (["--micrograd-impl=x.py", "--micrograd-max-examples=0"], "--micrograd-max-examples"),
            (["--micrograd-impl=x.py", "--micrograd-timeout=soon"], "--micrograd-timeout"),
            (["--micrograd-impl=x.py", "--micrograd-require=nope"], "--micrograd-require"),
            (["--micrograd-impl=x.py", "--micrograd-nn=nn.py"], "--micrograd-nn: nn.py: no such"),
            (
                ["--micrograd-impl=x.py", "--micrograd-backward=back prop"],
                "--micrograd-backward: expected a name, got 'back prop'",
            ),
            (
                ["--micrograd-impl=x.py", "--micrograd-leaf-kwargs=requires_grad"],
                "--micrograd-leaf-kwargs: expected KEY=VALUE, got 'requires_grad'",
            ),
        ],
    )
    def test_bad_options_are_usage_errors_naming_the_option(
        self, pytester: pytest.Pytester, args: list[str], message: str
    ) -> None:
        """Each bad option is refused where it comes in, with the option's name."""
        pytester.makepyfile(x="")
        result = pytester.runpytest_subprocess(*args)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        assert message in result.stderr.str()


class TestCollection:
    """The engine is collected like a file of tests: counted, named after it, never imported."""

    @pytest.mark.parametrize("args", [[], ["tests"]], ids=["walked", "not-walked"])
    def test_the_header_counts_the_checks_once(
        self, pytester: pytest.Pytester, args: list[str]
    ) -> None:
        """The checks are counted once with the other tests; pytest never imports the engine."""
        _write(pytester.path, "engine.py", NOT_IN_PYTEST + CLOSURES)
        _write(pytester.path, "tests/test_mine.py", "def test_mine():\n    pass\n")
        result = pytester.runpytest_subprocess("--micrograd-impl=engine.py", "--co", "-q", *args)
        assert result.ret == pytest.ExitCode.OK
        result.stdout.fnmatch_lines([f"{CHECKS + 1} tests collected in *"])
        assert "engine.py::tanh" in result.stdout.lines

    def test_ids_name_the_engine_file(self, pytester: pytest.Pytester) -> None:
        """Tests are engine.py::<check> in the progress, the failure and the summary lines."""
        _write(pytester.path, "engine.py", engine_file("bug_tanh_rule").read_text())
        result = pytester.runpytest_subprocess(
            "--micrograd-impl=engine.py", "--micrograd-max-examples=3", "-v", "-k", "tanh"
        )
        result.assert_outcomes(failed=1, skipped=1, deselected=CHECKS - 2)
        result.stdout.fnmatch_lines(
            [
                "engine.py::tanh FAILED *",
                "engine.py::tanh_edge SKIPPED *",
                "*_ tanh _*",
                "FAILED engine.py::tanh - failed: a.grad is *",
            ]
        )
        assert "micrograd[" not in result.stdout.str()

    def test_a_node_id_runs_its_check(self, pytester: pytest.Pytester) -> None:
        """engine.py::tanh on the command line collects that check alone, not a test module."""
        _write(pytester.path, "engine.py", NOT_IN_PYTEST + engine_file("bug_tanh_rule").read_text())
        result = pytester.runpytest_subprocess(
            "--micrograd-impl=engine.py", "--micrograd-max-examples=3", "engine.py::tanh"
        )
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines(["collected 1 item", "FAILED engine.py::tanh - failed: *"])

    def test_a_module_name_is_its_id(self, pytester: pytest.Pytester) -> None:
        """--micrograd-impl=mygrad.engine gives tests mygrad.engine::<check>."""
        _write(pytester.path, "mygrad/engine.py", CLOSURES)
        result = pytester.runpytest_subprocess(
            "--micrograd-impl=mygrad.engine", "--micrograd-max-examples=3", "-v", "-k", "radd"
        )
        result.assert_outcomes(passed=1, deselected=CHECKS - 1)
        result.stdout.fnmatch_lines(["mygrad.engine::radd PASSED *"])

    def test_selection_counts_and_runs_dependencies_silently(
        self, pytester: pytest.Pytester
    ) -> None:
        """-k counts what it kept and left; the checks tanh depends on run but are not tests."""
        _write(pytester.path, "engine.py", engine_file("bug_tanh_rule").read_text())
        result = pytester.runpytest_subprocess(
            "--micrograd-impl=engine.py", "--micrograd-max-examples=3", "-v", "-k", "tanh"
        )
        result.stdout.fnmatch_lines(
            [f"*collected {CHECKS} items / {CHECKS - 2} deselected / 2 selected"]
        )
        ran = [line for line in result.stdout.lines if line.startswith("engine.py::")]
        assert [line.split()[0] for line in ran] == ["engine.py::tanh", "engine.py::tanh_edge"]


class TestLoadErrors:
    """An engine that cannot load is one error saying why, not one failure per check."""

    def test_an_engine_that_does_not_load_is_one_collection_error(
        self, pytester: pytest.Pytester
    ) -> None:
        """An exception while importing is one collection error with the engine's traceback."""
        source = 'def helper():\n    raise RuntimeError("boom")\n\nprint("training")\nhelper()\n'
        _write(pytester.path, "engine.py", source)
        result = pytester.runpytest_subprocess("--micrograd-impl=engine.py", "-k", "add")
        assert result.ret == pytest.ExitCode.INTERRUPTED
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(
            [
                "*ERROR collecting engine.py*",
                "could not load the engine: engine.py: RuntimeError: boom*",
                "where your code raised it:",
                '  File "*engine.py", line 5, in <module>',
                "    helper()",
                '  File "*engine.py", line 2, in helper',
                "it printed:",
                "    training",
                "*Interrupted: 1 error during collection*",
            ]
        )
        assert "Traceback" not in result.stdout.str()

    def test_a_syntax_error_is_one_collection_error(self, pytester: pytest.Pytester) -> None:
        """A syntax error is one error naming it, also when pytest walks the engine's folder."""
        _write(pytester.path, "engine.py", (ENGINES / "load_syntax_error.py").read_text())
        result = pytester.runpytest_subprocess("--micrograd-impl=engine.py")
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(["could not load the engine: engine.py: SyntaxError: *"])

    def test_an_import_that_hangs_names_the_plugins_timeout(
        self, pytester: pytest.Pytester
    ) -> None:
        """An import over the load limit says --micrograd-timeout, the flag pytest takes."""
        _write(pytester.path, "engine.py", (ENGINES / "load_hangs.py").read_text())
        result = pytester.runpytest_subprocess("--micrograd-impl=engine.py", "-k", "radd")
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(
            [
                "could not load the engine: engine.py: importing it took longer than 10 s. *"
                ", or give --micrograd-timeout more than 10 seconds"
            ]
        )

    def test_an_engine_that_stops_loading_fails_its_tests(self, pytester: pytest.Pytester) -> None:
        """An engine that loads at collection but not when the checks run fails with the error."""
        marker = pytester.path / "loaded-once"
        guard = f"import os\nif os.path.exists({str(marker)!r}):\n    raise RuntimeError('again')\n"
        guard += f"open({str(marker)!r}, 'w').close()\n"
        _write(pytester.path, "engine.py", guard + CLOSURES)
        result = pytester.runpytest_subprocess(  # the sandbox shows the engine's folder read-only
            "--micrograd-impl=engine.py", "-k", "radd", "--micrograd-sandbox=no"
        )
        result.assert_outcomes(failed=1, deselected=CHECKS - 1)
        result.stdout.fnmatch_lines(["could not load the engine: engine.py: RuntimeError: again*"])


class TestConventions:
    """--micrograd-backward and --micrograd-leaf-kwargs, as check's --backward and --leaf-kwargs."""

    def test_backward_names_the_method(self, pytester: pytest.Pytester) -> None:
        """An engine whose backward is backprop() loads with --micrograd-backward=backprop."""
        source = CLOSURES.replace("def backward(", "def backprop(")
        _write(pytester.path, "engine.py", source)
        args = ["--micrograd-impl=engine.py", "--micrograd-max-examples=3", "-k", "radd"]
        without = pytester.runpytest_subprocess(*args)
        without.assert_outcomes(errors=1)
        without.stdout.fnmatch_lines(["could not load the engine: *backward*"])
        result = pytester.runpytest_subprocess(*args, "--micrograd-backward=backprop")
        result.assert_outcomes(passed=1, deselected=CHECKS - 1)
        result.stdout.fnmatch_lines(["reproduce with: pytest * --micrograd-backward=backprop"])

    def test_leaf_kwargs_make_the_leaves(self, pytester: pytest.Pytester) -> None:
        """Leaves that need requires_grad=True get it with --micrograd-leaf-kwargs."""
        args = [
            f"--micrograd-impl={engine('correct_requires_grad')}",
            "--micrograd-max-examples=3",
            "-k",
            "radd",
        ]
        pytester.runpytest_subprocess(*args).assert_outcomes(failed=1, deselected=31)
        result = pytester.runpytest_subprocess(*args, "--micrograd-leaf-kwargs=requires_grad=True")
        result.assert_outcomes(passed=1, deselected=31)
        result.stdout.fnmatch_lines(
            ["reproduce with: pytest * --micrograd-leaf-kwargs=requires_grad=True"]
        )

    def test_an_assignment_file_sets_the_run(self, pytester: pytest.Pytester) -> None:
        """--micrograd-assignment takes the file's cases and conventions.

        Its settings given on the command line too are a usage error, as in check.
        """
        _write(pytester.path, "engine.py", CLOSURES.replace("def backward(", "def backprop(", 1))
        _write(pytester.path, "a.toml", 'max_examples = 3\nbackward = "backprop"\n')
        args = ["--micrograd-impl=engine.py", "--micrograd-assignment=a.toml", "-k", "radd"]
        result = pytester.runpytest_subprocess(*args)
        result.assert_outcomes(passed=1, deselected=CHECKS - 1)
        result.stdout.fnmatch_lines(
            ["reproduce with: pytest --micrograd-impl=engine.py --micrograd-assignment=a.toml"]
        )
        clash = pytester.runpytest_subprocess(*args, "--micrograd-seed=4")
        assert clash.ret == pytest.ExitCode.USAGE_ERROR
        clash.stderr.fnmatch_lines(["*--micrograd-seed: set by the assignment file a.toml*"])
        _write(pytester.path, "bad.toml", "seeds = 1\n")
        bad = pytester.runpytest_subprocess(
            "--micrograd-impl=engine.py", "--micrograd-assignment=bad.toml"
        )
        assert bad.ret == pytest.ExitCode.USAGE_ERROR
        bad.stderr.fnmatch_lines(["*--micrograd-assignment: bad.toml: unknown key seeds*"])


class TestScore:
    """With an assignment file, the terminal summary shows the score grading would give."""

    ASSIGNMENT = "max_examples = 3\n[points]\nadd = 1\ntanh = 2\n"

    def test_the_score_and_the_points_lost_to_missing_ops(self, pytester: pytest.Pytester) -> None:
        """An engine without tanh: green, but 1 of 3 points, 2 lost to tanh."""
        _write(pytester.path, "engine.py", CLOSURES.replace("def tanh(", "def _tanh("))
        _write(pytester.path, "a.toml", self.ASSIGNMENT)
        args = ["--micrograd-impl=engine.py", "--micrograd-assignment=a.toml"]
        result = pytester.runpytest_subprocess(*args, "-k", "add or tanh")
        assert result.parseoutcomes()["skipped"] == 2  # tanh, tanh_edge: green, not failed
        result.stdout.fnmatch_lines(
            [
                "*- micrograd-ref score -*",
                "score: 1 of 3 points (a.toml)",
                "2 points lost to ops your engine does not have: tanh",
            ]
        )
        assert "did not run here" not in result.stdout.str()
        deselected = pytester.runpytest_subprocess(*args, "-k", "radd")
        deselected.stdout.fnmatch_lines(
            [
                "score: 0 of 3 points (a.toml)",
                "2 counted checks did not run here (-k, -m, node ids or no --micrograd-nn), so 0 "
                "points: add, tanh",
            ]
        )
        assert "lost to ops" not in deselected.stdout.str()

    def test_an_engine_that_does_not_load_scores_zero(self, pytester: pytest.Pytester) -> None:
        """A load error is one collection error, and a score of 0 saying why."""
        _write(pytester.path, "engine.py", (ENGINES / "load_syntax_error.py").read_text())
        _write(pytester.path, "a.toml", self.ASSIGNMENT)
        result = pytester.runpytest_subprocess(
            "--micrograd-impl=engine.py", "--micrograd-assignment=a.toml"
        )
        result.assert_outcomes(errors=1)
        result.stdout.fnmatch_lines(
            ["score: 0 of 3 points (a.toml): the engine could not be loaded"]
        )

    def test_no_line_when_nothing_is_missing(self, pytester: pytest.Pytester) -> None:
        """Without an assignment and with every op there, the summary adds nothing."""
        _write(pytester.path, "engine.py", CLOSURES)
        result = pytester.runpytest_subprocess(
            "--micrograd-impl=engine.py", "--micrograd-max-examples=3", "-k", "radd"
        )
        result.assert_outcomes(passed=1, deselected=CHECKS - 1)
        assert "micrograd-ref score" not in result.stdout.str()


@pytest.fixture(scope="module")
def karpathy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Karpathy's micrograd as pip installs it, once for the module."""
    return karpathy_micrograd(tmp_path_factory)


class TestMixedInstall:
    """Karpathy's micrograd mixed with micrograd-ref: one usage error saying what to do."""

    @pytest.mark.parametrize(
        ("order", "code", "says"),
        [
            (
                ["ours", "theirs"],
                pytest.ExitCode.USAGE_ERROR,
                "ERROR: --micrograd-impl: Karpathy's micrograd 0.1.0 was installed over "
                "micrograd-ref",
            ),
            (
                ["theirs", "ours", "uninstall theirs"],
                pytest.ExitCode.USAGE_ERROR,
                "ERROR: --micrograd-impl: micrograd-ref 0.1.0 is missing",
            ),
            (
                ["theirs", "ours"],
                pytest.ExitCode.OK,
                "micrograd-ref: warning: Karpathy's micrograd 0.1.0 is installed too",
            ),
        ],
        ids=["theirs-over-ours", "theirs-uninstalled", "ours-over-theirs"],
    )
    def test_a_mixed_install_is_one_usage_error(
        self,
        tmp_path: Path,
        karpathy: Path,
        order: list[str],
        code: pytest.ExitCode,
        says: str,
    ) -> None:
        """No reference engine of Karpathy's, no INTERNALERROR: the install check's words.

        With micrograd-ref's files intact (installed last), the run goes on with a warning.
        """
        site = tmp_path / "site-packages"
        for step in order:
            if step == "ours":
                _install(site, "micrograd-ref", _our_files())
            elif step == "theirs":
                shutil.copytree(karpathy, site, dirs_exist_ok=True)
            else:
                _uninstall(site, "micrograd-0.1.0.dist-info")
        _write(tmp_path, "engine.py", CLOSURES)
        # -S: no .pth files, so no editable micrograd-ref; pytest and Hypothesis from their folder
        where = os.pathsep.join([str(site), str(Path(pytest.__file__).parents[1])])
        env = {**os.environ, "PYTHONPATH": where}
        env.pop("COVERAGE_PROCESS_START", None)  # the copy in `site` is not the measured source
        done = subprocess.run(
            [sys.executable, "-S", "-m", "pytest", "-p", "no:cacheprovider",
             "--micrograd-impl=engine.py", "--micrograd-max-examples=3", "-k", "radd or tanh"],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
            env=env,
            timeout=300,
        )  # fmt: skip
        output = done.stdout + done.stderr
        assert done.returncode == code, output
        assert says in output
        assert ADVICE in output
        assert "INTERNALERROR" not in output
        assert "KeyError" not in output

    @pytest.mark.parametrize("fatal", [True, False], ids=["fatal", "warning"])
    def test_the_install_check_is_run_with_the_option(
        self, pytester: pytest.Pytester, fatal: bool
    ) -> None:
        """What the check finds stops the run as a usage error, or is a line of the header."""
        pytester.makeconftest(
            "from micrograd import install_check\n"
            f"finding = install_check.Finding('it is mixed', fatal={fatal})\n"
            "install_check.check = lambda path=None: finding\n"
        )
        _write(pytester.path, "engine.py", CLOSURES)
        args = ["--micrograd-impl=engine.py", "--micrograd-max-examples=3", "-k", "radd"]
        result = pytester.runpytest_subprocess(*args)
        if fatal:
            assert result.ret == pytest.ExitCode.USAGE_ERROR
            result.stderr.fnmatch_lines(["ERROR: --micrograd-impl: it is mixed"])
        else:
            result.assert_outcomes(passed=1, deselected=CHECKS - 1)
            result.stdout.fnmatch_lines(["micrograd-ref: warning: it is mixed"])


def test_the_oracle_extra_brings_pytest() -> None:
    """The oracle extra requires pytest: pip install 'micrograd-ref[oracle]' brings the plugin's."""
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    assert "pytest>=8" in extras["oracle"]
