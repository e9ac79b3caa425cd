from __future__ import annotations

import sys
from pathlib import Path

import pytest

from micrograd.cli import main
from micrograd.demo import DemoConfig, run_demo

QUICK = ["demo", "--steps", "2", "--samples", "20", "--hidden", "4", "--noise", "0.05"]


class TestDemoCommand:
    """``micrograd-ref demo`` trains, reports progress and draws the boundary as a file or text."""

    def test_writes_the_png_and_reports_progress(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With matplotlib, it prints each step and the final figures, then writes the PNG."""
        pytest.importorskip("matplotlib")
        out = tmp_path / "boundary.png"
        assert main([*QUICK, "--every", "1", "--out", str(out)]) == 0
        stdout = capsys.readouterr().out.splitlines()
        assert stdout[0] == (
            "Training MLP(2 -> 4 -> 1, relu) on 20 moons points (noise 0.05, seed 0) for 2 steps"
        )
        assert [line.split("  ")[0] for line in stdout[1:3]] == ["step 0/2", "step 1/2"]
        assert stdout[3].startswith("Final: loss ")
        assert stdout[4] == f"Decision boundary written to {out}"
        assert out.read_bytes().startswith(b"\x89PNG")

    def test_help_starts_with_usage_and_names_every_option(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--help shows the usage line first and documents each option."""
        with pytest.raises(SystemExit) as exit_info:
            main(["demo", "--help"])
        assert exit_info.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("usage: micrograd-ref demo [options]\n")
        for option in ("--seed", "--steps", "--samples", "--noise", "--hidden", "--activation"):
            assert option in out
        assert "--out" in out
        assert "--text" in out

    def test_text_flag_draws_in_the_terminal_instead(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--text draws the boundary as characters (no colour off a terminal) and writes no file."""
        out = tmp_path / "boundary.png"
        assert main([*QUICK, "--text", "--out", str(out)]) == 0
        stdout = capsys.readouterr().out
        assert "+ label +1   o label -1   '.': score > 0" in stdout
        assert "\x1b[" not in stdout
        assert not out.exists()

    def test_without_matplotlib_it_still_runs_and_draws_text(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """If matplotlib cannot be imported, it says so on stderr and draws in the terminal."""
        monkeypatch.setitem(sys.modules, "matplotlib.colors", None)
        out = tmp_path / "boundary.png"
        assert main([*QUICK, "--out", str(out)]) == 0
        captured = capsys.readouterr()
        assert "plotting needs matplotlib" in captured.err
        assert "drawing in the terminal instead" in captured.err
        assert "+ label +1   o label -1" in captured.out
        assert not out.exists()

    @pytest.mark.parametrize(("no_color", "coloured"), [(None, True), ("1", False)])
    def test_colour_follows_the_terminal_and_no_color(
        self,
        no_color: str | None,
        coloured: bool,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """On a terminal the text is coloured, unless NO_COLOR is set."""
        monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
        if no_color is None:
            monkeypatch.delenv("NO_COLOR", raising=False)
        else:
            monkeypatch.setenv("NO_COLOR", no_color)
        assert main([*QUICK, "--text"]) == 0
        assert ("\x1b[30;48;5;" in capsys.readouterr().out) == coloured


class TestDemoErrors:
    """Bad options give a one-line error and exit status 2, never a traceback."""

    @pytest.mark.parametrize(
        ("option", "message"),
        [
            (["--steps", "0"], "argument --steps: must be at least 1; got 0"),
            (["--steps", "ten"], "argument --steps: not an integer: 'ten'"),
            (["--seed", "-1"], "argument --seed: must be at least 0; got -1"),
            (["--samples", "1"], "argument --samples: must be at least 2; got 1"),
            (["--noise", "-0.1"], "argument --noise: must be a finite number of at least 0"),
            (["--noise", "nan"], "argument --noise: must be a finite number of at least 0"),
            (["--noise", "inf"], "argument --noise: must be a finite number of at least 0"),
            (["--noise", "lots"], "argument --noise: not a number: 'lots'"),
            (["--hidden", "16,x"], "argument --hidden: must be comma-separated integers"),
            (["--hidden", "16,0"], "argument --hidden: widths must be at least 1"),
            (["--activation", "elu"], "argument --activation: invalid choice: 'elu'"),
        ],
    )
    def test_bad_option_is_a_usage_error(
        self, option: list[str], message: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Argparse exits with status 2 and exactly one line on stderr: the error."""
        with pytest.raises(SystemExit) as exit_info:
            main(["demo", *option])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1
        assert err[0].startswith(f"micrograd-ref demo: error: {message}")

    def test_unknown_option_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An option demo does not know is reported by the top-level parser, with exit status 2."""
        with pytest.raises(SystemExit) as exit_info:
            main(["demo", "--colour"])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert err.startswith("micrograd-ref: error: unrecognized arguments: --colour")
        assert err.count("\n") == 1

    @pytest.mark.parametrize(
        ("out", "message"),
        [
            ("boundary.jpg", "--out must end in .png, .svg, .pdf; got"),
            ("missing/boundary.png", "--out: no such directory:"),
        ],
    )
    def test_bad_out_path_fails_before_training(
        self, out: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An unsupported suffix or a missing directory is reported in one line, before training."""
        assert main(["demo", "--out", str(tmp_path / out)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith(f"micrograd-ref demo: error: {message}")
        assert captured.err.count("\n") == 1

    def test_unwritable_out_is_reported_in_one_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """If the picture cannot be written (the path is a directory), exit 2 with one line."""
        pytest.importorskip("matplotlib")
        out = tmp_path / "taken.png"
        out.mkdir()
        assert main([*QUICK, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"micrograd-ref demo: error: cannot write {str(out)!r}: ")
        assert err.count("\n") == 1


class TestRunDemo:
    """run_demo builds the configured data and model and trains it."""

    def test_configuration_is_honoured(self) -> None:
        """Samples, hidden sizes, activation and steps of the config shape the run."""
        config = DemoConfig(
            seed=3, steps=3, samples=30, noise=0.2, hidden=(5, 4), activation="tanh"
        )
        result = run_demo(config)
        assert len(result.X) == len(result.y) == 30
        assert repr(result.model) == (
            "MLP(2 -> 5 -> 4 -> 1, activation=tanh, output_activation=linear)"
        )
        assert [r.step for r in result.history] == [0, 1, 2]
        assert 0.0 <= result.accuracy <= 1.0
        assert result.loss > 0.0
