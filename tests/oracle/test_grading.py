"""Grades a teacher can use: the assignment file, scores of a fixed total, formats, grade."""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pytest

from micrograd.cli import main
from micrograd.oracle import autograder, scoring
from micrograd.oracle.assignment import Assignment, AssignmentError, default_text, load
from micrograd.oracle.checks import CATALOGUE
from micrograd.oracle.formats import gradescope, junit, prairielearn
from micrograd.oracle.runner import LoadError, Worker, parse_target
from micrograd.oracle.suite import Options, run_suite
from tests.oracle.helpers import ENGINES, FAST, engine, engine_file, graded

QUICK = ["--max-examples", "5", "--no-torch"]
MAIN = [c.name for c in CATALOGUE if c.kind != "edge"]

# Gradescope's autograder specification: the keys results.json may have, at the top and per test.
GRADESCOPE_TOP = {
    "score", "max_score", "execution_time", "output", "output_format", "test_output_format",
    "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard",
}  # fmt: skip
GRADESCOPE_TEST = {
    "score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
    "tags", "visibility", "extra_data",
}  # fmt: skip
# PrairieLearn's external grading results: the keys at the top and per test.
PRAIRIELEARN_TOP = {"gradable", "score", "message", "output", "images", "tests"}
PRAIRIELEARN_TEST = {"name", "description", "points", "max_points", "message", "output", "images"}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _no_tanh(folder: Path) -> Path:
    """The correct lecture engine without tanh: one op short."""
    source = (ENGINES / "correct_closures.py").read_text()
    return _write(folder / "no_tanh.py", source.replace("def tanh(", "def _tanh("))


class TestAssignmentFile:
    """assignment init writes the defaults; a bad file is refused with its key named."""

    def test_init_writes_the_defaults_and_keeps_an_existing_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The file written loads as the default assignment; a second init needs --force."""
        path = tmp_path / "assignment.toml"
        assert main(["assignment", "init", str(path)]) == 0
        assert load(path) == Assignment(**{**Assignment.default().__dict__, "source": str(path)})
        assert main(["assignment", "init", str(path)]) == 2
        assert "--force" in capsys.readouterr().err
        assert main(["assignment", "init", str(path), "--force"]) == 0

    def test_the_default_counts_every_main_check_at_one_point(self) -> None:
        """26 points: every check but the edge group, which is listed but counts only if asked."""
        default = Assignment.default()
        assert list(default.counted()) == MAIN
        assert default.max_score == len(MAIN)
        edged = Assignment(**{**default.__dict__, "edge": True})
        assert edged.max_score == len(CATALOGUE)

    @pytest.mark.parametrize(
        ("text", "says"),
        [
            ("seeds = 1", "unknown key seeds"),
            ("[points]\ntahn = 1", "points: no check named 'tahn'"),
            ("timeout = 'long'", "timeout must be float"),
            ("max_examples = 0", "max_examples must be more than 0"),
            ("[points]\nadd = -1", "points.add must be a number of points >= 0"),
            ('visibility = "later"', "'later' is not one of visible"),
            ("edge = 1", "edge must be bool"),
            ("[nn]\nweights = 1", "nn: unknown key weights"),
            ("name = ", "not valid TOML"),
            ('[visibility_of]\ntahn = "hidden"', "visibility_of: no check named 'tahn'"),
        ],
    )
    def test_a_bad_file_names_its_fault(self, tmp_path: Path, text: str, says: str) -> None:
        """Unknown keys and checks, wrong types and bad values are errors naming the file."""
        path = _write(tmp_path / "a.toml", text)
        with pytest.raises(AssignmentError, match=str(path)) as caught:
            load(path)
        assert says in str(caught.value)

    def test_visibility_per_check_overrides_the_default(self, tmp_path: Path) -> None:
        """visibility_of names checks whose results students see at another time than the rest."""
        path = _write(
            tmp_path / "a.toml",
            'visibility = "after_published"\n[visibility_of]\ntanh = "hidden"\nadd = "visible"\n',
        )
        chosen = load(path)
        assert [chosen.visibility_of(c) for c in ("tanh", "add", "mul")] == [
            "hidden",
            "visible",
            "after_published",
        ]

    def test_a_file_that_cannot_be_read_is_named(self, tmp_path: Path) -> None:
        """A folder given as the file: the error names it and says it cannot be read."""
        with pytest.raises(AssignmentError, match=f"{tmp_path}: cannot read it"):
            load(tmp_path)

    def test_check_refuses_a_bad_file_before_grading(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A bad assignment file is a usage error of check (exit 2), naming its fault."""
        path = _write(tmp_path / "a.toml", "seeds = 1\n")
        assert main(["check", engine("correct_closures"), "--assignment", str(path)]) == 2
        assert f"{path}: unknown key seeds" in capsys.readouterr().err

    def test_gradescope_autograder_refuses_a_bad_file_and_writes_no_zip(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A bad assignment file: gradescope-autograder exits 2, naming its fault, and no zip."""
        path = _write(tmp_path / "a.toml", "seeds = 1\n")
        out = tmp_path / "autograder.zip"
        assert main(["gradescope-autograder", "--assignment", str(path), "-o", str(out)]) == 2
        assert f"{path}: unknown key seeds" in capsys.readouterr().err
        assert not out.exists()

    def test_check_refuses_a_setting_the_file_makes(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--seed beside --assignment would let a self-check and the grading differ: refused."""
        path = _write(tmp_path / "a.toml", "seed = 3\n")
        code = main(["check", engine("correct_closures"), "--assignment", str(path), "--seed", "1"])
        assert code == 2
        assert "--seed: set by the assignment file" in capsys.readouterr().err

    def test_check_runs_the_files_cases_and_prints_the_score(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The file's seed and cases are the run's; the score is out of the file's points."""
        path = _write(
            tmp_path / "a.toml", "seed = 7\nmax_examples = 4\n[points]\nadd = 2\ntanh = 3\n"
        )
        report = tmp_path / "r.json"
        words = ["check", str(_no_tanh(tmp_path)), "--assignment", str(path), "--no-torch"]
        assert main([*words, "--json", str(report)]) == 0
        assert "score: 2 of 5 points" in capsys.readouterr().out
        data = json.loads(report.read_text())
        assert (data["seed"], data["max_examples"]) == (7, 4)
        assert (data["score"], data["max_score"]) == (2.0, 5.0)
        assert data["points"]["tanh"] == {"points": 0.0, "max_points": 3.0}


class TestScores:
    """Every counted check is worth its points whether the engine has the op or not."""

    def test_a_missing_op_scores_nothing_out_of_the_same_total(self, tmp_path: Path) -> None:
        """An engine without tanh scores one point less than a complete one, out of 26 both."""
        complete = scoring.grade(Assignment.default(), graded(engine("correct_closures")))
        short = scoring.grade(
            Assignment.default(), run_suite(parse_target(str(_no_tanh(tmp_path))), FAST)
        )
        assert (complete.score, complete.max_score) == (26.0, 26.0)
        assert (short.score, short.max_score) == (25.0, 26.0)
        (tanh,) = [s for s in short.scores if s.name == "tanh"]
        assert (tanh.status, tanh.reason) == ("unsupported", "the op is missing")

    def test_a_root_cause_scores_every_check_it_breaks_zero_and_says_why(self) -> None:
        """A backward() that never seeds the root: 0 of 26, each check naming the cause."""
        result = scoring.grade(Assignment.default(), graded(engine("bug_no_seed")))
        assert (result.score, result.max_score) == (0.0, 26.0)
        broken = [s for s in result.scores if s.status == "not_graded"]
        assert broken
        assert all(s.reason.startswith("not graded: backward() does not set") for s in broken)

    def test_an_engine_that_does_not_load_scores_zero_of_the_total(self) -> None:
        """No run: every counted check 0, with the load error as the reason."""
        result = scoring.grade(Assignment.default(), None, error="SyntaxError: bad")
        assert (result.score, result.max_score) == (0.0, 26.0)
        assert {(s.status, s.reason) for s in result.scores} == {("not_run", "SyntaxError: bad")}

    def test_grading_twice_gives_the_same_score(self) -> None:
        """The same submission, seed and options: the same points, check by check."""
        first, second = (
            scoring.grade(
                Assignment.default(), run_suite(parse_target(engine("bug_exp_assign")), FAST)
            )
            for _ in range(2)
        )
        assert [(s.name, s.points) for s in first.scores] == [
            (s.name, s.points) for s in second.scores
        ]

    def test_points_and_the_edge_group_follow_the_file(self, tmp_path: Path) -> None:
        """Tanh worth 5, the edge group counted: its failures cost their points."""
        path = _write(tmp_path / "a.toml", "edge = true\n[points]\ntanh = 5\nsigmoid_edge = 2\n")
        chosen = load(path)
        result = scoring.grade(chosen, graded(engine("correct_closures")))
        assert result.max_score == 7.0
        assert result.score == 5.0  # the lecture's sigmoid overflows below -709

    def test_a_network_without_its_module_scores_zero(self, tmp_path: Path) -> None:
        """[nn] in the file counts nn_mlp; a run without --nn scores it 0 (not run)."""
        chosen = load(_write(tmp_path / "a.toml", '[nn]\nfile = "nn.py"\npoints = 4\n'))
        result = scoring.grade(chosen, graded(engine("correct_closures")))
        assert result.max_score == 30.0
        (nn,) = [s for s in result.scores if s.name == "nn_mlp"]
        assert (nn.points, nn.status) == (0.0, "not_run")


def _formats(suite_name: str) -> scoring.Graded:
    chosen = Assignment(
        **{**Assignment.default().__dict__, "check_visibility": {"tanh": "after_due_date"}}
    )
    return scoring.grade(chosen, graded(engine(suite_name)))


class TestFormats:
    """Each results file has exactly the fields its platform documents."""

    def test_gradescope_fields_status_and_visibility(self) -> None:
        """Known keys only; a failed test is failed whatever its points; Markdown; visibility."""
        data = json.loads(gradescope.render(_formats("bug_tanh_rule")))
        assert set(data) <= GRADESCOPE_TOP
        assert (data["score"], data["max_score"], data["output_format"]) == (25.0, 26.0, "md")
        assert isinstance(data["execution_time"], int)
        for test in data["tests"]:
            assert set(test) <= GRADESCOPE_TEST
            assert test["status"] == ("passed" if test["score"] == test["max_score"] else "failed")
        (tanh,) = [t for t in data["tests"] if t["name"].startswith("tanh")]
        assert (tanh["status"], tanh["visibility"]) == ("failed", "after_due_date")
        assert "```python\n" in tanh["output"]

    def test_gradescope_for_an_engine_that_did_not_load(self) -> None:
        """Every test present at 0, so the gradebook's total is the same for everyone."""
        result = scoring.grade(Assignment.default(), None, error="SyntaxError: bad")
        data = json.loads(gradescope.render(result))
        assert (data["score"], data["max_score"], len(data["tests"])) == (0.0, 26.0, 26)
        assert all(t["status"] == "failed" for t in data["tests"])
        assert "SyntaxError: bad" in data["output"]

    def test_gradescope_time_of_an_engine_that_did_not_load(self, tmp_path: Path) -> None:
        """execution_time is the time spent, also when the engine fails to load after a while."""
        slow = _write(
            tmp_path / "slow.py", "import time\ntime.sleep(1.6)\nraise RuntimeError('late')\n"
        )
        results = tmp_path / "results.json"
        assert main(["check", str(slow), *QUICK, "--gradescope", str(results)]) == 2
        data = json.loads(results.read_text())
        assert "RuntimeError: late" in data["output"]
        assert data["execution_time"] >= 2

    def test_junit_counts_and_children(self) -> None:
        """Testsuites > testsuite with consistent counts; a failure carries the reproducer."""
        root = ET.fromstring(junit.render(_formats("bug_tanh_rule")))
        assert root.tag == "testsuites"
        (suite,) = root
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "")) == len(cases) == 26
        assert int(suite.get("failures", "")) == len(suite.findall("testcase/failure")) == 1
        assert suite.get("errors") == "0"
        assert {p.get("name"): p.get("value") for p in suite.iter("property")} == {
            "score": "25",
            "max_score": "26",
            "sandboxed": "false",
        }
        (failure,) = suite.findall("testcase/failure")
        assert "print(" in (failure.text or "")
        assert all({"classname", "name", "time"} <= set(case.attrib) for case in cases)

    def test_junit_for_an_engine_that_did_not_load(self) -> None:
        """Every case an error with the reason."""
        result = scoring.grade(Assignment.default(), None, error="SyntaxError: bad")
        (suite,) = ET.fromstring(junit.render(result))
        assert suite.get("errors") == "26"

    def test_prairielearn_fields_and_score_fraction(self) -> None:
        """Known keys; score a fraction of the points; gradable false when it did not load."""
        data = json.loads(prairielearn.render(_formats("bug_tanh_rule")))
        assert set(data) <= PRAIRIELEARN_TOP
        assert data["gradable"] is True
        assert data["score"] == pytest.approx(25 / 26)
        assert all(set(t) <= PRAIRIELEARN_TEST for t in data["tests"])
        failed = json.loads(prairielearn.render(scoring.grade(Assignment.default(), None, "x")))
        assert (failed["gradable"], failed["score"]) == (False, 0.0)

    def test_check_writes_every_format_on_request(self, tmp_path: Path) -> None:
        """--json, --gradescope, --junit, --prairielearn: for an engine that fails to load too."""
        files = {f: tmp_path / f"r.{f}" for f in ("json", "gradescope", "junit", "prairielearn")}
        flags = [word for f, path in files.items() for word in (f"--{f}", str(path))]
        assert main(["check", str(ENGINES / "load_syntax_error.py"), *QUICK, *flags]) == 2
        assert json.loads(files["gradescope"].read_text())["max_score"] == 26.0
        assert json.loads(files["prairielearn"].read_text())["gradable"] is False
        assert ET.fromstring(files["junit"].read_text()).tag == "testsuites"


def _class(tmp_path: Path) -> Path:
    """A class folder as a platform exports it: folders, files, a notebook, debris."""
    subs = tmp_path / "class"
    (subs / "ada").mkdir(parents=True)
    shutil.copy(engine_file("correct_closures"), subs / "ada" / "engine.py")
    shutil.copy(engine_file("bug_tanh_rule"), subs / "ada.py")  # a second "ada"
    karpathy = subs / "Bob Smith" / "micrograd"
    karpathy.mkdir(parents=True)
    shutil.copy(engine_file("correct_closures"), karpathy / "engine.py")
    (subs / "__MACOSX").mkdir()
    (subs / ".DS_Store").write_text("")
    (subs / "notes.txt~").write_text("")
    return subs


def _grade(*words: str) -> int:
    return main(["grade", *words, *QUICK, "--only", "add,tanh"])


class TestGrade:
    """grade on a class folder as it comes: names kept, nothing overwritten, one CSV."""

    def test_names_are_kept_and_reports_never_collide(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """ada/ and ada.py are two students; Karpathy's layout is found; debris is skipped."""
        out = tmp_path / "out"
        assert _grade(str(_class(tmp_path)), "--out", str(out)) == 1
        printed = capsys.readouterr().out
        summary = json.loads((out / "summary.json").read_text())
        names = {r["submission"]: r["report"] for r in summary["submissions"]}
        assert names == {"ada": "ada", "ada.py": "ada.py", "Bob Smith": "Bob_Smith"}
        assert sorted(p.name for p in out.glob("*.txt")) == [
            "Bob_Smith.txt",
            "ada.py.txt",
            "ada.txt",
        ]
        assert {s.split(" ")[0] for s in summary["skipped"]} == {
            "__MACOSX",
            ".DS_Store",
            "notes.txt~",
        }
        assert "skipped: __MACOSX" in printed
        (bob,) = [r for r in summary["submissions"] if r["submission"] == "Bob Smith"]
        assert bob["target"].endswith("Bob Smith/micrograd/engine.py:Value")  # found alone

    def test_grades_csv_has_a_row_per_submission_and_a_column_per_check(
        self, tmp_path: Path
    ) -> None:
        """Names as handed in, the fixed total, each check's points."""
        out = tmp_path / "out"
        _grade(str(_class(tmp_path)), "--out", str(out))
        with (out / "grades.csv").open(newline="") as file:
            rows = list(csv.DictReader(file))
        assert [r["submission"] for r in rows] == ["ada", "ada.py", "Bob Smith"]
        assert {r["max_score"] for r in rows} == {"26"}
        by_name = {r["submission"]: r for r in rows}
        assert (by_name["ada"]["tanh"], by_name["ada.py"]["tanh"]) == ("1", "0")
        assert by_name["ada"]["score"] == "2"  # only add and tanh ran: the others score 0
        assert set(MAIN) <= set(rows[0])

    def test_a_missing_target_or_a_used_folder_writes_nothing(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """No such folder: exit 2 before --out exists; a folder in use needs --overwrite."""
        out = tmp_path / "out"
        assert _grade(str(tmp_path / "nonexist"), "--out", str(out)) == 2
        assert "no such file or folder" in capsys.readouterr().err
        assert not out.exists()
        subs = _class(tmp_path)
        assert _grade(str(subs), "--out", str(out)) == 1
        assert _grade(str(subs), "--out", str(out)) == 2
        assert "already holds files" in capsys.readouterr().err
        assert _grade(str(subs), "--out", str(out), "--overwrite") == 1

    def test_names_that_read_alike_get_a_numbered_report(self, tmp_path: Path) -> None:
        """Bob Smith/ and Bob_Smith/ make the same file name: the second report is Bob_Smith-2."""
        subs = tmp_path / "class"
        for name in ("Bob Smith", "Bob_Smith"):
            (subs / name).mkdir(parents=True)
            shutil.copy(engine_file("correct_closures"), subs / name / "engine.py")
        out = tmp_path / "out"
        assert _grade(str(subs), "--out", str(out)) == 1  # --only: incomplete, not full marks
        summary = json.loads((out / "summary.json").read_text())
        names = {r["submission"]: r["report"] for r in summary["submissions"]}
        assert names == {"Bob Smith": "Bob_Smith", "Bob_Smith": "Bob_Smith-2"}

    def test_a_submission_named_like_a_class_file_keeps_its_report(self, tmp_path: Path) -> None:
        """summary.py and grades/ get suffixed reports; summary.json stays the class's, and maps."""
        subs = tmp_path / "class"
        (subs / "grades").mkdir(parents=True)
        shutil.copy(engine_file("correct_closures"), subs / "summary.py")
        shutil.copy(engine_file("correct_closures"), subs / "grades" / "engine.py")
        out = tmp_path / "out"
        _grade(str(subs), "--out", str(out))
        summary = json.loads((out / "summary.json").read_text())
        names = {r["submission"]: r["report"] for r in summary["submissions"]}
        assert names == {"grades": "grades-2", "summary.py": "summary.py"}
        assert json.loads((out / "summary.py.json").read_text())["score"] == 2.0
        assert (out / "grades-2.json").is_file()

    def test_an_out_that_is_a_file_is_a_usage_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--out naming a regular file: exit 2 with one line, even with --overwrite; it is kept."""
        subs = tmp_path / "class"
        subs.mkdir()
        shutil.copy(engine_file("correct_closures"), subs / "ada.py")
        afile = _write(tmp_path / "afile", "mine")
        assert _grade(str(subs), "--out", str(afile), "--overwrite") == 2
        err = capsys.readouterr().err
        assert f"--out {afile} is a file, not a folder" in err
        assert "Traceback" not in err
        assert afile.read_text() == "mine"

    def test_overwrite_replaces_the_earlier_runs_files_and_keeps_others(
        self, tmp_path: Path
    ) -> None:
        """--overwrite deletes the reports the earlier summary.json lists; other files stay."""
        first, second = tmp_path / "first", tmp_path / "second"
        for folder, names in ((first, ("ada.py", "bob.py")), (second, ("cy.py",))):
            folder.mkdir()
            for name in names:
                shutil.copy(engine_file("correct_closures"), folder / name)
        out = tmp_path / "out"
        _grade(str(first), "--out", str(out), "--junit")
        _write(out / "notes.txt", "mine")
        _grade(str(second), "--out", str(out), "--overwrite")
        assert sorted(p.name for p in out.iterdir()) == [
            "cy.json", "cy.txt", "grades.csv", "notes.txt", "summary.json",
        ]  # fmt: skip

    def test_overwrite_without_an_earlier_summary_deletes_nothing(self, tmp_path: Path) -> None:
        """A folder grade did not write (no summary.json of its own) keeps every file."""
        subs = tmp_path / "class"
        subs.mkdir()
        shutil.copy(engine_file("correct_closures"), subs / "ada.py")
        out = tmp_path / "out"
        out.mkdir()
        _write(out / "bob.json", "{}")
        _write(out / "summary.json", "not JSON")
        _grade(str(subs), "--out", str(out), "--overwrite")
        assert (out / "bob.json").read_text() == "{}"
        assert "submissions" in json.loads((out / "summary.json").read_text())

    def test_a_glob_matching_several_files_grades_nothing_and_says_which(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--file *.py in a folder of two engines: the submission scores 0, naming both files."""
        subs = tmp_path / "class"
        (subs / "cy").mkdir(parents=True)
        for name in ("a.py", "b.py"):
            shutil.copy(engine_file("correct_closures"), subs / "cy" / name)
        out = tmp_path / "out"
        assert _grade(str(subs), "--out", str(out), "--file", "*.py") == 1
        assert "several files match *.py: a.py, b.py" in (out / "cy.txt").read_text()
        assert "cy" in capsys.readouterr().out

    def test_every_format_per_submission_and_globs(self, tmp_path: Path) -> None:
        """--gradescope --junit --prairielearn write each submission's file; --file takes a glob."""
        subs = tmp_path / "class"
        (subs / "cy" / "src").mkdir(parents=True)
        shutil.copy(engine_file("correct_closures"), subs / "cy" / "src" / "my_engine.py")
        out = tmp_path / "out"
        words = [
            "--out",
            str(out),
            "--file",
            "src/*.py",
            "--gradescope",
            "--junit",
            "--prairielearn",
        ]
        assert _grade(str(subs), *words) == 1  # --only: incomplete, not full marks
        assert {p.name for p in out.iterdir()} >= {
            "cy.gradescope.json", "cy.junit.xml", "cy.prairielearn.json", "cy.json", "cy.txt",
        }  # fmt: skip

    def test_a_submission_over_its_time_scores_zero_with_every_file(self, tmp_path: Path) -> None:
        """The assignment's submission_timeout stops a submission whose import hangs."""
        subs = tmp_path / "class"
        subs.mkdir()
        shutil.copy(ENGINES / "load_hangs.py", subs / "zed.py")
        chosen = _write(tmp_path / "a.toml", "submission_timeout = 2.0\n")
        out = tmp_path / "out"
        code = main(
            ["grade", str(subs), "--out", str(out), "--assignment", str(chosen), "--gradescope"]
        )
        assert code == 1
        data: dict[str, Any] = json.loads((out / "zed.gradescope.json").read_text())
        assert (data["score"], data["max_score"]) == (0.0, 26.0)
        assert "longer than the assignment's 2 s" in data["output"]
        assert data["execution_time"] >= 2  # the time it cost, not 0


NN_ASSIGNMENT = 'max_examples = 3\n[points]\nadd = 1\n[nn]\nfile = "nn.py"\npoints = 4\n'
"""Add and the network, which is in nn.py."""


def _networks(folder: Path) -> Path:
    """A class: bob in Karpathy's layout (engine and nn in micrograd/), cy without a network."""
    package = folder / "bob" / "micrograd"
    package.mkdir(parents=True)
    _write(package / "__init__.py", "")
    shutil.copy(engine_file("correct_closures"), package / "engine.py")
    nn = (ENGINES / "nn_lecture.py").read_text()
    _write(package / "nn.py", nn.replace("from correct_closures", "from micrograd.engine"))
    (folder / "cy").mkdir()
    shutil.copy(engine_file("correct_closures"), folder / "cy" / "engine.py")
    shutil.copy(engine_file("correct_closures"), folder / "dee.py")
    return folder


class TestNetworkDiscovery:
    """The network's module is found as the engine is; when there is none, its 0 says why."""

    def test_grade_finds_karpathys_nn_and_says_why_there_is_none(self, tmp_path: Path) -> None:
        """bob/micrograd/nn.py is graded; cy's nn_mlp scores 0 naming where grade looked."""
        subs = _networks(tmp_path / "class")
        chosen = _write(tmp_path / "a.toml", NN_ASSIGNMENT)
        out = tmp_path / "out"
        main(["grade", str(subs), "--out", str(out), "--assignment", str(chosen), "--no-torch"])
        bob = json.loads((out / "bob.json").read_text())
        assert (bob["score"], bob["max_score"]) == (5.0, 5.0)
        cy = json.loads((out / "cy.json").read_text())
        assert cy["points"]["nn_mlp"] == {"points": 0.0, "max_points": 4.0}
        assert (
            "nn_mlp scores 0: no nn.py found in the submission (looked for nn.py, micrograd/nn.py)"
            in " ".join((out / "cy.txt").read_text().split())
        )
        assert "nn_mlp scores 0: a submission of one file has no nn.py" in " ".join(
            (out / "dee.txt").read_text().split()
        )  # not looked for beside it, among the other submissions

    def test_check_with_the_assignment_finds_the_network_too(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Check finds the network the file grades in a folder or beside a file, not for a module.

        This is how the Gradescope autograder runs: check on the submission folder.
        """
        subs = _networks(tmp_path / "class")
        chosen = _write(tmp_path / "a.toml", NN_ASSIGNMENT)
        words = ["--assignment", str(chosen), "--no-torch", "--only", "add,nn_mlp"]
        results = tmp_path / "results.json"
        assert main(["check", str(subs / "bob"), *words, "--gradescope", str(results)]) == 0
        (nn,) = [
            t for t in json.loads(results.read_text())["tests"] if t["name"].startswith("nn_mlp")
        ]
        assert (nn["score"], nn["status"]) == (4.0, "passed")
        capsys.readouterr()
        main(["check", str(subs / "cy" / "engine.py"), *words])
        assert "nn_mlp scores 0: no nn.py found in the submission" in capsys.readouterr().out
        main(["check", "correct_closures", "--path", str(ENGINES), *words])
        printed = capsys.readouterr().out
        assert "score: 1 of 5 points" in printed
        assert "nn_mlp scores 0" not in printed  # a module has no folder to look in


class TestVerdict:
    """A teacher reads the verdict right: passed means full marks."""

    def test_an_engine_missing_ops_is_incomplete_not_passed(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without tanh: 1 of 2, "incomplete" naming the op, in its line, the CSV, the summary."""
        subs = tmp_path / "class"
        subs.mkdir()
        shutil.copy(engine_file("correct_closures"), subs / "ada.py")
        _no_tanh(subs)
        chosen = _write(tmp_path / "a.toml", "max_examples = 5\n[points]\nadd = 1\ntanh = 1\n")
        out = tmp_path / "out"
        words = ["grade", str(subs), "--out", str(out), "--assignment", str(chosen), "--no-torch"]
        assert main(words) == 1
        printed = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
        assert any(
            line.startswith("ada.py 2/2 ") and line.endswith(" s passed") for line in printed
        )
        assert any(
            line.startswith("no_tanh.py 1/2 ")
            and line.endswith(" s incomplete (ops it does not have: tanh)")
            for line in printed
        )
        assert printed[-1].startswith(
            "1 of 2 submissions passed with full marks, 1 incomplete (nothing wrong, but ops "
            "missing or not run), 0 failed or not graded; grades in "
        )
        with (out / "grades.csv").open(newline="") as file:
            verdicts = {row["submission"]: row["verdict"] for row in csv.DictReader(file)}
        assert verdicts == {"ada.py": "passed", "no_tanh.py": "incomplete"}


class TestSlowImportAdvice:
    """An import over its time limit names the setting that gives it more, on each route."""

    @pytest.mark.parametrize(
        ("options", "advice"),
        [
            (Options(), "give --timeout more than 10 seconds"),
            (Options(timeout=20.0), "give --timeout more than 20 seconds"),
            (
                Options(assignment="a.toml"),
                "set timeout above 10 in the assignment file a.toml",
            ),
            (
                Options(timeout_option="--micrograd-timeout"),
                "give --micrograd-timeout more than 10 seconds",
            ),
        ],
        ids=["check", "check-timeout", "assignment", "pytest"],
    )
    def test_the_advice_names_the_routes_setting(self, options: Options, advice: str) -> None:
        """--timeout for check and grade, the file's timeout under an assignment, pytest's flag."""
        assert options.more_time() == advice

    def test_the_load_error_gives_the_advice(self) -> None:
        """The worker's load error ends with the advice it was given."""
        with (
            Worker(parse_target(engine("load_hangs")), load_timeout=0.5, more_time="do X") as child,
            pytest.raises(LoadError, match=r"took longer than 0\.5 s\..*, or do X$"),
        ):
            child.start()


class TestGradescopeAutograder:
    """The autograder zip installs from its own wheel and grades a submission end to end."""

    def test_without_an_installed_distribution_there_is_no_wheel(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Micrograd-ref run from a source tree it was never installed from: say to install it."""

        def missing(name: str) -> importlib.metadata.Distribution:
            raise importlib.metadata.PackageNotFoundError(name)

        monkeypatch.setattr(importlib.metadata, "distribution", missing)
        with pytest.raises(LookupError, match="micrograd-ref is not installed: pip install it"):
            autograder.wheel(tmp_path)

    def test_a_distribution_without_entry_points_still_gives_a_wheel(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No entry_points.txt in the metadata: the wheel has none and installs the same code."""
        real = importlib.metadata.distribution(autograder.DISTRIBUTION)

        class Bare:
            version = real.version

            def read_text(self, name: str) -> str | None:
                return None if name == "entry_points.txt" else real.read_text(name)

        monkeypatch.setattr(importlib.metadata, "distribution", lambda name: Bare())
        with zipfile.ZipFile(autograder.wheel(tmp_path)) as built:
            names = built.namelist()
        assert "micrograd/engine.py" in names
        assert not [n for n in names if n.endswith("entry_points.txt")]

    def test_without_an_assignment_the_zip_holds_the_default(self, tmp_path: Path) -> None:
        """No --assignment: the zip's assignment.toml is the commented default."""
        out = tmp_path / "autograder.zip"
        assert main(["gradescope-autograder", "-o", str(out)]) == 0
        with zipfile.ZipFile(out) as archive:
            assert archive.read("assignment.toml").decode() == default_text()

    def test_the_zip_holds_what_gradescope_runs(self, tmp_path: Path) -> None:
        """setup.sh and run_autograder executable at the root, the assignment, one wheel."""
        chosen = _write(tmp_path / "a.toml", '[nn]\nfile = "nn.py"\n')
        out = tmp_path / "autograder.zip"
        assert main(["gradescope-autograder", "--assignment", str(chosen), "-o", str(out)]) == 0
        with zipfile.ZipFile(out) as archive:
            names = archive.namelist()
            modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
            assert archive.read("assignment.toml") == chosen.read_bytes()
            assert "nn" not in archive.read("run_autograder").decode()  # check finds it
        (wheel,) = [n for n in names if n.endswith(".whl")]
        assert names[:3] == ["setup.sh", "run_autograder", "assignment.toml"]
        assert modes["setup.sh"] & 0o111
        assert modes["run_autograder"] & 0o111
        with zipfile.ZipFile(out) as archive, zipfile.ZipFile(io.BytesIO(archive.read(wheel))) as w:
            inside = w.namelist()
        assert "micrograd/engine.py" in inside
        assert "micrograd/py.typed" in inside
        assert not [n for n in inside if "__pycache__" in n]

    def test_run_autograder_grades_a_submission_in_a_fake_autograder_tree(
        self, tmp_path: Path
    ) -> None:
        """setup.sh installs the wheel into a fresh venv; run_autograder writes results.json.

        The tree is Gradescope's: source/ (the unpacked zip), submission/ and
        results/, under a root given by AUTOGRADER_ROOT.
        """
        root = tmp_path / "autograder"
        source = root / "source"
        out = tmp_path / "autograder.zip"
        chosen = _write(tmp_path / "a.toml", '[nn]\nfile = "nn.py"\n')
        assert main(["gradescope-autograder", "--assignment", str(chosen), "-o", str(out)]) == 0
        with zipfile.ZipFile(out) as archive:
            archive.extractall(source)
        for script in ("setup.sh", "run_autograder"):
            (source / script).chmod(0o755)
        package = root / "submission" / "micrograd"  # Karpathy's layout
        package.mkdir(parents=True)
        shutil.copy(engine_file("bug_tanh_rule"), package / "engine.py")
        nn = (ENGINES / "nn_lecture.py").read_text()
        _write(package / "nn.py", nn.replace("from correct_closures", "from micrograd.engine"))
        venv = tmp_path / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        env = {
            **os.environ,
            "AUTOGRADER_ROOT": str(root),
            "MICROGRAD_AUTOGRADER_PYTHON": str(venv / "bin" / "python"),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
        env.pop("COVERAGE_PROCESS_START", None)  # the venv has no coverage to start
        setup = subprocess.run(
            [str(source / "setup.sh")],
            check=False,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert setup.returncode == 0, setup.stderr[-2000:]
        run = subprocess.run(
            [str(source / "run_autograder")],
            check=False,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        data = json.loads((root / "results" / "results.json").read_text())
        assert set(data) <= GRADESCOPE_TOP
        assert (data["max_score"], len(data["tests"])) == (27.0, 27)
        (tanh,) = [t for t in data["tests"] if t["name"].startswith("tanh")]
        assert (tanh["status"], tanh["score"]) == ("failed", 0.0)
        (nn,) = [t for t in data["tests"] if t["name"].startswith("nn_mlp")]
        assert nn["name"].startswith("nn_mlp: MLP")  # it ran: micrograd/nn.py was found
        assert data["score"] == 25.0 + nn["score"]


def test_the_rerun_line_of_an_assignment_run_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The file holds the seed, cases and limits: the rerun line passes it, not them."""
    path = _write(tmp_path / "a.toml", "max_examples = 3\n")
    main(["check", engine("bug_tanh_rule"), "--assignment", str(path), "--no-torch"])
    printed = " ".join(capsys.readouterr().out.split())
    assert f"--assignment {path} --no-torch --only tanh" in printed
    assert "--seed" not in printed
