from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import pytest

from micrograd import demo
from micrograd.cli import main
from micrograd.demo import DEFAULT_OUT, DemoConfig, run_demo

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
        assert [line.split("  ")[0] for line in stdout[2:4]] == ["step 0/2", "step 1/2"]
        assert stdout[5] == f"Decision boundary written to {out}"
        assert out.read_bytes().startswith(b"\x89PNG")

    def test_says_why_the_final_loss_differs_from_the_last_step(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Steps report the loss before their update, "Final" after the last one; both say so."""
        assert main([*QUICK, "--every", "1", "--text"]) == 0
        stdout = capsys.readouterr().out.splitlines()
        assert stdout[1] == "Each step's loss and accuracy are measured before that step's update."
        assert stdout[4].startswith("Final, after the last update: loss ")
        last_step, final = stdout[3].split("loss ")[1][:6], stdout[4].split("loss ")[1][:6]
        assert last_step != final  # 2 steps of a 4-unit net: the last update still moves it

    def test_without_out_it_writes_boundary_png_in_the_current_folder(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The picture's default place is boundary.png, where the command runs."""
        pytest.importorskip("matplotlib")
        monkeypatch.chdir(tmp_path)
        assert main(QUICK) == 0
        assert capsys.readouterr().out.endswith(f"Decision boundary written to {DEFAULT_OUT}\n")
        assert [p.name for p in tmp_path.iterdir()] == ["boundary.png"]

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
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """--text draws the boundary as characters (no colour off a terminal) and writes no file."""
        monkeypatch.chdir(tmp_path)
        assert main([*QUICK, "--text"]) == 0
        stdout = capsys.readouterr().out
        assert "+ label +1   o label -1   '.': score > 0" in stdout
        assert "\x1b[" not in stdout
        assert list(tmp_path.iterdir()) == []

    def test_text_and_out_draw_both(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--text with --out writes the picture and draws in the terminal."""
        pytest.importorskip("matplotlib")
        out = tmp_path / "boundary.svg"
        assert main([*QUICK, "--text", "--out", str(out)]) == 0
        stdout = capsys.readouterr().out
        assert f"Decision boundary written to {out}" in stdout
        assert "+ label +1   o label -1" in stdout
        assert b"<svg" in out.read_bytes()

    def test_without_matplotlib_it_still_runs_and_draws_text(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without --out and without matplotlib, it says so on stderr and draws in the terminal."""
        monkeypatch.setitem(sys.modules, "matplotlib.colors", None)
        monkeypatch.chdir(tmp_path)
        assert main(QUICK) == 0
        captured = capsys.readouterr()
        assert "plotting needs matplotlib" in captured.err
        assert "drawing in the terminal instead" in captured.err
        assert "+ label +1   o label -1" in captured.out
        assert list(tmp_path.iterdir()) == []

    def test_without_matplotlib_text_alone_says_nothing_of_it(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """--text without matplotlib needs nothing missing, so stderr stays empty."""
        monkeypatch.setitem(sys.modules, "matplotlib.colors", None)
        assert main([*QUICK, "--text"]) == 0
        assert capsys.readouterr().err == ""

    @pytest.mark.parametrize("text", [[], ["--text"]], ids=["out", "out-and-text"])
    def test_out_without_matplotlib_is_an_error_before_training(
        self,
        text: list[str],
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Without matplotlib an explicit --out cannot be kept: one line, exit 2, no training."""
        monkeypatch.setitem(sys.modules, "matplotlib.colors", None)
        out = tmp_path / "boundary.png"
        assert main([*QUICK, *text, "--out", str(out)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err == (
            f"micrograd-ref demo: error: --out {str(out)!r} needs matplotlib: "
            "pip install 'micrograd-ref[plot]', or leave out --out to draw in the terminal\n"
        )
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
            ("missing/boundary.png", "--out: cannot write {out!r}: no such folder: "),
            ("folder.png", "--out: cannot write {out!r}: it is a folder\n"),
        ],
    )
    def test_bad_out_path_fails_before_training(
        self, out: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A bad suffix, a missing folder or a folder in the way: one line, before training."""
        pytest.importorskip("matplotlib")
        (tmp_path / "folder.png").mkdir()
        path = str(tmp_path / out)
        assert main(["demo", "--out", path]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith(f"micrograd-ref demo: error: {message.format(out=path)}")
        assert captured.err.count("\n") == 1

    def test_read_only_folder_is_refused_before_training(self, tmp_path: Path) -> None:
        """--out in a folder nobody may write to: one line, exit 2, no training, nothing written.

        Root may write anywhere, so as root the command runs in a user namespace
        of its own (``unshare --user``), where it is an unprivileged user.
        """
        pytest.importorskip("matplotlib")
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        prefix = []
        if os.geteuid() == 0:
            if shutil.which("unshare") is None:
                pytest.skip("running as root, and no unshare to drop the privilege")
            prefix = ["unshare", "--user"]
        # Coverage cannot write its data as that user; this run is measured by the others.
        env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE")}
        out = folder / "boundary.png"
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "micrograd", "demo", "--out", str(out)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        folder.chmod(0o755)
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr == (
            f"micrograd-ref demo: error: --out: cannot write {str(out)!r}: Permission denied\n"
        )
        assert list(folder.iterdir()) == []

    def test_a_read_only_file_system_is_refused_before_training(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Where the system refuses the file (a read-only mount, say): one line, exit 2."""
        pytest.importorskip("matplotlib")
        out = tmp_path / "boundary.png"
        real_open = Path.open

        def read_only(self: Path, *args: Any, **kwargs: Any) -> IO[Any]:
            if self == out:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
            opened: IO[Any] = real_open(self, *args, **kwargs)
            return opened

        monkeypatch.setattr(Path, "open", read_only)
        assert main([*QUICK, "--out", str(out)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err == (
            f"micrograd-ref demo: error: --out: cannot write {str(out)!r}: "
            f"{os.strerror(errno.EROFS)}\n"
        )

    def test_an_existing_picture_is_left_as_it_was_until_written(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Checking that --out can be written changes nothing: an interrupted run leaves it."""
        pytest.importorskip("matplotlib")
        out = tmp_path / "boundary.png"
        out.write_bytes(b"the old picture")
        monkeypatch.setattr(demo, "run_demo", _interrupt)
        assert main([*QUICK, "--out", str(out)]) == 130
        assert out.read_bytes() == b"the old picture"
        assert capsys.readouterr().err == "interrupted\n"

    def test_failing_to_save_is_reported_in_one_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """If saving still fails after training (a full disk, say), exit 2 with one line."""
        pytest.importorskip("matplotlib")

        def full_disk(*_args: object, **_kwargs: object) -> None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(demo, "plot_decision_boundary", full_disk)
        out = tmp_path / "boundary.png"
        assert main([*QUICK, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err == (
            f"micrograd-ref demo: error: cannot write {str(out)!r}: {os.strerror(errno.ENOSPC)}\n"
        )


class TestInterrupt:
    """Ctrl-C stops the demo with one line, "interrupted", and exit status 130."""

    def test_ctrl_c_in_training_prints_interrupted(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A KeyboardInterrupt while training becomes one line on stderr and status 130."""
        monkeypatch.setattr(demo, "run_demo", _interrupt)
        assert main([*QUICK, "--text"]) == 130
        captured = capsys.readouterr()
        assert captured.err == "interrupted\n"
        assert "Traceback" not in captured.out

    def test_sigint_to_the_command(self, tmp_path: Path) -> None:
        """SIGINT (what Ctrl-C sends) to ``python -m micrograd demo``: status 130, one line.

        The demo runs as ``python -m`` runs it, with Python's own SIGINT handler, as
        from a terminal: a shell that runs this suite in the background starts it
        with SIGINT ignored, and Python keeps that.
        """
        as_from_a_terminal = (
            "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "runpy.run_module('micrograd', run_name='__main__', alter_sys=True)"
        )
        child = subprocess.Popen(
            [sys.executable, "-c", as_from_a_terminal, "demo", "--steps", "100000", "--text"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            line = child.stdout.readline()
            while line and not line.startswith("step"):  # until training has begun
                line = child.stdout.readline()
            assert line, "the demo ended before its first step"
            child.send_signal(signal.SIGINT)
            _, stderr = child.communicate(timeout=60)
        except BaseException:
            child.kill()  # a demo that did not stop must not outlive the test
            child.communicate()
            raise
        assert (child.returncode, stderr) == (130, "interrupted\n")


def _interrupt(*_args: object, **_kwargs: object) -> None:
    """Stands in for run_demo: the user pressed Ctrl-C."""
    raise KeyboardInterrupt


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
