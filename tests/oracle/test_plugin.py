"""The pytest plugin: one test per check with --micrograd-impl, and nothing without it.

The inner pytest runs in a subprocess (coverage follows it there): the plugin
starts worker processes and Hypothesis, which an in-process pytester run shares
with the outer session.
"""

from __future__ import annotations

import pytest

from tests.oracle.helpers import ENGINES, engine


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
                "*micrograd?tanh?*",
                "failed: a.grad is *, expected 0.7864477329659274",
                "*<-- wrong",
            ]
        )

    def test_unsupported_ops_skip_unless_required(
        self, pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        """An absent op is a skip, or a failure when --micrograd-require names it."""
        folder = tmp_path_factory.mktemp("no_tanh")
        path = folder / "engine.py"
        source = ENGINES / "correct_closures.py"
        path.write_text(source.read_text().replace("def tanh(", "def _tanh("))
        args = [f"--micrograd-impl={path}", "--micrograd-max-examples=3", "-k", "tanh and not edge"]
        pytester.runpytest_subprocess(*args).assert_outcomes(skipped=1, deselected=31)
        required = pytester.runpytest_subprocess(*args, "--micrograd-require=tanh")
        required.assert_outcomes(failed=1, deselected=31)

    def test_an_engine_that_does_not_load_fails_every_test(self, pytester: pytest.Pytester) -> None:
        """A syntax error fails each test with the load error, not a crash of pytest."""
        result = pytester.runpytest_subprocess(
            f"--micrograd-impl={engine('load_syntax_error')}", "-k", "add"
        )
        result.assert_outcomes(failed=3, deselected=29)
        result.stdout.fnmatch_lines(["*could not load the engine: *SyntaxError*"])

    def test_nn_adds_its_test(self, pytester: pytest.Pytester) -> None:
        """--micrograd-nn adds micrograd[nn_mlp], named in the header's flags."""
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
