"""The micrograd-ref command line: version and help."""

from __future__ import annotations

import subprocess
import sys

import pytest

import micrograd
from micrograd.cli import main


class TestCli:
    """micrograd-ref answers --version and explains itself without a command."""

    def test_version(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--version prints the package version and exits 0."""
        with pytest.raises(SystemExit) as exit_info:
            main(["--version"])
        assert exit_info.value.code == 0
        assert capsys.readouterr().out.strip() == f"micrograd-ref {micrograd.__version__}"

    def test_no_command_prints_help_and_exits_2(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Without a command, the help is printed and the exit status is 2 (a usage error)."""
        assert main([]) == 2
        assert "usage: micrograd-ref" in capsys.readouterr().out

    def test_python_dash_m_runs_the_cli(self) -> None:
        """Python -m micrograd --version works like the console script."""
        done = subprocess.run(
            [sys.executable, "-m", "micrograd", "--version"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0
        assert micrograd.__version__ in done.stdout

    @pytest.mark.parametrize(
        "argv", [["bogus"], ["--bogus"], ["demo", "--colour"], ["demo", "--steps", "x"]]
    )
    def test_usage_errors_are_one_line(
        self, argv: list[str], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A bad command or option prints one line naming the problem, and exits 2."""
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1
        assert "error:" in err
        assert "--help" in err
