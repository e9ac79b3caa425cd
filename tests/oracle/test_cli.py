"""``micrograd-ref check`` and ``grade``: exit statuses, report files, batch grading."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from micrograd.cli import main
from tests.oracle.helpers import ENGINES, engine, engine_file

QUICK = ["--max-examples", "5", "--no-torch"]


class TestCheckCommand:
    """check prints a table and exits 0 (all passed), 1 (a check did not) or 2 (no engine)."""

    def test_correct_engine_exits_0(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A correct engine passes: exit status 0 and a PASSED summary."""
        assert main(["check", engine("correct_closures"), *QUICK]) == 0
        assert "PASSED: 26 checks, 26 passed" in capsys.readouterr().out

    def test_failing_engine_exits_1_and_writes_both_reports(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A failing check gives exit 1, a JSON report and Gradescope's results.json."""
        out = tmp_path / "out"
        code = main(
            ["check", engine("bug_sigmoid_rule"), *QUICK, "--only", "sigmoid,tanh",
             "--json", str(out / "r.json"), "--gradescope", str(out / "results.json")]
        )  # fmt: skip
        assert code == 1
        data = json.loads((out / "r.json").read_text())
        assert [(c["name"], c["status"]) for c in data["checks"]] == [
            ("tanh", "passed"),
            ("sigmoid", "failed"),
        ]
        assert json.loads((out / "results.json").read_text())["score"] == 1.0
        assert "--- sigmoid" in capsys.readouterr().out

    @pytest.mark.parametrize(
        "target",
        ["missing.py", engine("load_syntax_error"), engine("load_no_class"), engine("load_exits")],
    )
    def test_unloadable_engine_exits_2_with_one_line(
        self, target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A load error is one line on stderr (then where it was raised), exit 2, score 0."""
        results = tmp_path / "results.json"
        assert main(["check", target, *QUICK, "--gradescope", str(results)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("micrograd-ref: error: ")
        assert all("frozen" not in line for line in err.splitlines())
        assert json.loads(results.read_text())["score"] == 0.0

    def test_unknown_check_name_is_a_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--require and --only accept check names only."""
        assert main(["check", engine("correct_closures"), "--require", "tahn"]) == 2
        assert "--require: no check named tahn" in capsys.readouterr().err

    def test_require_turns_unsupported_into_failed(self, tmp_path: Path) -> None:
        """An absent op is unsupported (exit 0) unless --require names it (exit 1)."""
        path = tmp_path / "no_tanh.py"
        text = (ENGINES / "correct_closures.py").read_text()
        path.write_text(text.replace("def tanh(", "def _tanh("))
        assert main(["check", str(path), *QUICK, "--only", "tanh"]) == 0
        assert main(["check", str(path), *QUICK, "--only", "tanh", "--require", "tanh"]) == 1

    @pytest.mark.parametrize(
        ("flag", "value"), [("--max-examples", "0"), ("--timeout", "-1"), ("--max-examples", "x")]
    )
    def test_bad_numbers_are_refused(self, flag: str, value: str) -> None:
        """Counts and timeouts must be positive numbers."""
        with pytest.raises(SystemExit) as exit_info:
            main(["check", "engine.py", flag, value])
        assert exit_info.value.code == 2


class TestGradeCommand:
    """grade checks a folder of submissions in parallel and prints one summary."""

    def test_grades_a_folder_of_submissions(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Each submission gets a report; the summary shows who passed; exit 1 if anyone failed."""
        submissions = tmp_path / "submissions"
        for student, source in [("ada", "correct_closures"), ("bob", "bug_tanh_rule")]:
            (submissions / student).mkdir(parents=True)
            shutil.copy(engine_file(source), submissions / student / "engine.py")
        (submissions / "cy").mkdir()  # submitted nothing
        shutil.copy(ENGINES / "load_syntax_error.py", submissions / "dee.py")
        out = tmp_path / "grading"
        code = main(["grade", str(submissions), "--out", str(out), *QUICK, "--only", "tanh,add"])
        assert code == 1
        printed = capsys.readouterr().out
        assert printed.splitlines()[1].startswith("sandbox: ")
        rows = {line.split()[0]: line for line in printed.splitlines()[2:6]}
        assert rows["ada"].endswith("incomplete")  # --only: the other checks score 0
        assert rows["bob"].endswith("FAILED")
        assert "no engine.py" in rows["cy"]
        assert "SyntaxError" in rows["dee.py"]
        assert "0 of 4 submissions passed with full marks, 1 incomplete" in printed
        assert (out / "bob.txt").read_text().count("--- tanh") == 1
        assert len(json.loads((out / "summary.json").read_text())["submissions"]) == 4

    def test_nn_file_in_each_folder_is_checked_too(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With --nn-file, a submission's nn module is graded with its engine (unsupported here).

        A layout that none of the reference's activations give is not comparable.
        """
        student = tmp_path / "subs" / "fay"
        student.mkdir(parents=True)
        shutil.copy(ENGINES / "correct_closures.py", student / "engine.py")
        shutil.copy(ENGINES / "correct_closures.py", student / "correct_closures.py")
        nn = (ENGINES / "nn_bug_double_bias.py").read_text()
        (student / "nn.py").write_text(nn.replace("from correct_closures", "from engine"))
        out = tmp_path / "out"
        args = ["--out", str(out), *QUICK, "--only", "add,nn_mlp", "--nn-file", "nn.py"]
        assert main(["grade", str(tmp_path / "subs"), *args]) == 1  # --only: incomplete
        assert "fay" in capsys.readouterr().out
        report = json.loads((out / "fay.json").read_text())
        assert [(c["name"], c["status"]) for c in report["checks"]] == [
            ("add", "passed"),
            ("nn_mlp", "unsupported"),
        ]

    def test_nothing_to_grade_is_a_usage_error(self, tmp_path: Path) -> None:
        """An empty folder exits 2."""
        assert main(["grade", str(tmp_path), "--out", str(tmp_path / "out")]) == 2

    def test_grade_checks_option_names_too(self, tmp_path: Path) -> None:
        """The grade command refuses unknown check names like check does."""
        assert main(["grade", str(tmp_path), "--only", "nope"]) == 2


class TestGradeTargets:
    """grade also takes engine files directly, and passes check's options through."""

    def test_files_as_targets_with_options(self, tmp_path: Path) -> None:
        """A .py file is a submission; other files in a folder are ignored; options pass on.

        PyTorch stays enabled here, so the failing submission's numbers are confirmed by it.
        """
        folder = tmp_path / "class"
        folder.mkdir()
        shutil.copy(ENGINES / "correct_closures.py", folder / "eve.py")
        (folder / "notes.txt").write_text("not an engine")
        out = tmp_path / "out"
        args = ["--out", str(out), "--max-examples", "5", "--only", "tanh", "--require", "tanh"]
        code = main(["grade", str(folder), str(engine_file("bug_tanh_rule")), *args, "--path", "."])
        assert code == 1
        rows = json.loads((out / "summary.json").read_text())["submissions"]
        assert [(r["submission"], r["verdict"]) for r in rows] == [
            ("eve.py", "incomplete"),  # --only tanh: 1 of 26, the rest not run
            ("bug_tanh_rule.py", "FAILED"),
        ]


def _interrupted(words: list[str], cwd: Path, after: float) -> subprocess.CompletedProcess[str]:
    """Run ``micrograd-ref WORDS`` and press Ctrl-C after ``after`` seconds.

    Ctrl-C in a terminal sends SIGINT to the whole foreground process group:
    the command, its worker processes and the checks grade started.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "micrograd", *words],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(after)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


class TestInterrupt:
    """Ctrl-C stops check and grade with one line and exit status 130, as shells expect."""

    def test_check_says_interrupted_once(self, tmp_path: Path) -> None:
        """No traceback: one line on stderr, exit 130."""
        done = _interrupted(["check", engine("bug_hang_all"), "--no-torch"], tmp_path, 3.0)
        assert (done.returncode, done.stderr) == (130, "interrupted\n")

    def test_grade_starts_no_further_submission(self, tmp_path: Path) -> None:
        """The submissions not yet begun are not graded after Ctrl-C."""
        subs = tmp_path / "subs"
        subs.mkdir()
        for name in "abcd":
            shutil.copy(engine_file("bug_hang_all"), subs / f"{name}.py")
        out = tmp_path / "out"
        words = ["grade", str(subs), "--out", str(out), "--jobs", "1", "--no-torch"]
        done = _interrupted(words, tmp_path, 4.0)
        assert (done.returncode, done.stderr) == (130, "interrupted\n")
        assert len(list(out.glob("*.txt"))) <= 1


class TestNothingLeftBehind:
    """check writes nothing where it runs: not in the current folder, not in the student's."""

    def test_a_check_leaves_both_folders_as_they_were(self, tmp_path: Path) -> None:
        """No ``.hypothesis/`` database, no ``__pycache__``, no report unless one is asked for."""
        student, here = tmp_path / "student", tmp_path / "here"
        student.mkdir()
        here.mkdir()
        shutil.copy(engine_file("bug_exp_assign"), student / "engine.py")
        done = subprocess.run(
            [sys.executable, "-m", "micrograd", "check", str(student / "engine.py"),
             "--max-examples", "20", "--no-torch"],
            cwd=here, capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert sorted(p.name for p in student.iterdir()) == ["engine.py"]
        assert list(here.iterdir()) == []


def _unprivileged() -> list[str]:
    """The prefix that runs a command as a user bound by a folder's mode, or a skip.

    Root may write anywhere, so as root the command runs in a user namespace
    of its own (``unshare --user``), where it is an unprivileged user.
    """
    if os.geteuid() != 0:
        return []
    if shutil.which("unshare") is None:
        pytest.skip("running as root, and no unshare to drop the privilege")
    return ["unshare", "--user"]


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root``, recursively, with a file's bytes (None for a folder)."""
    return {
        str(path.relative_to(root)): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
    }


def _set_mode(root: Path, mode: int) -> None:
    """Give ``root`` and every folder under it ``mode``."""
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        folder.chmod(mode)


def _run_as_user(
    words: list[str], here: Path, folders: list[Path], mode: int
) -> subprocess.CompletedProcess[str]:
    """Run ``micrograd-ref WORDS`` from ``here`` as an unprivileged user, ``folders`` in ``mode``.

    The folders get their usual mode (755) back afterwards.
    """
    prefix = _unprivileged()
    # Coverage cannot write its data as that user; these runs are measured by the others.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE")}
    for folder in folders:
        _set_mode(folder, mode)
    try:
        return subprocess.run(
            [*prefix, sys.executable, "-m", "micrograd", *words],
            cwd=here, capture_output=True, text=True, env=env, check=False, timeout=180,
        )  # fmt: skip
    finally:
        for folder in folders:
            _set_mode(folder, 0o755)


_MODES = pytest.mark.parametrize("mode", [0o555, 0o755], ids=["read-only", "writable"])
"""Read-only: the command must still work. Writable: it must still leave nothing behind."""


class TestReadOnlyFolders:
    """Check and grade work from a read-only folder, on read-only submissions, and write nothing."""

    @_MODES
    def test_check_leaves_its_folder_and_the_engines_as_they_were(
        self, mode: int, tmp_path: Path
    ) -> None:
        """A check of a failing engine exits 1 with its report, and neither folder changes."""
        student, here = tmp_path / "student", tmp_path / "here"
        student.mkdir()
        here.mkdir()
        shutil.copy(engine_file("bug_exp_assign"), student / "engine.py")
        before = (_tree(student), _tree(here))
        words = ["check", str(student / "engine.py"), "--max-examples", "20", "--no-torch"]
        done = _run_as_user(words, here, [here, student], mode)
        assert done.returncode == 1, done.stderr
        assert "--- exp" in done.stdout
        assert (_tree(student), _tree(here)) == before

    @_MODES
    def test_grade_writes_into_out_alone(self, mode: int, tmp_path: Path) -> None:
        """Grade exits 1 (bob failed), reports in --out; the other folders do not change."""
        submissions, here, out = tmp_path / "submissions", tmp_path / "here", tmp_path / "out"
        for student, source in [("ada", "correct_closures"), ("bob", "bug_tanh_rule")]:
            (submissions / student).mkdir(parents=True)
            shutil.copy(engine_file(source), submissions / student / "engine.py")
        here.mkdir()
        before = (_tree(submissions), _tree(here))
        words = ["grade", str(submissions), "--out", str(out), *QUICK, "--only", "tanh,add"]
        done = _run_as_user(words, here, [here, submissions], mode)
        assert done.returncode == 1, done.stderr
        assert "1 failed or not graded" in done.stdout
        assert (_tree(submissions), _tree(here)) == before
        assert {"ada.txt", "bob.txt", "summary.json", "grades.csv"} <= set(_tree(out))
