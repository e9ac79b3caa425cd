"""The teachers' guide's walkthrough runs as written, and gives the grades it shows."""

from __future__ import annotations

import csv
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from micrograd.oracle.assignment import KEYS
from tests.oracle.helpers import ENGINES, engine_file

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "oracle-teachers.md"


def _walkthrough() -> list[list[str]]:
    """The ``$ micrograd-ref …`` commands between the guide's walkthrough markers."""
    text = GUIDE.read_text(encoding="utf-8")
    block = text[text.index("<!-- walkthrough-start") : text.index("<!-- walkthrough-end -->")]
    commands = re.findall(r"^\$ (micrograd-ref .+)$", block, flags=re.MULTILINE)
    return [shlex.split(command) for command in commands]


def _class_of_four(folder: Path) -> None:
    """The guide's class: ada (correct), bob (tanh's derivative wrong), cy (nothing), dee.py."""
    for name in ("ada", "bob", "cy"):
        (folder / "submissions" / name).mkdir(parents=True)
    shutil.copy(engine_file("correct_closures"), folder / "submissions" / "ada" / "engine.py")
    shutil.copy(engine_file("bug_tanh_rule"), folder / "submissions" / "bob" / "engine.py")
    shutil.copy(ENGINES / "load_syntax_error.py", folder / "submissions" / "dee.py")


def test_the_walkthrough_gives_the_grades_it_shows(tmp_path: Path) -> None:
    """Assignment init, grade and gradescope-autograder, run as the guide writes them.

    The grades are the guide's (26, 25, 0, 0 of 26); each command's files are there.
    """
    commands = _walkthrough()
    assert [c[1] for c in commands] == ["assignment", "grade", "gradescope-autograder"]
    _class_of_four(tmp_path)
    codes = []
    for command in commands:
        done = subprocess.run(
            [sys.executable, "-m", "micrograd", *command[1:]],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        codes.append(done.returncode)
    assert codes == [0, 1, 0]  # grade: not every submission passed
    with (tmp_path / "grading" / "grades.csv").open(newline="") as file:
        rows = {row["submission"]: row for row in csv.DictReader(file)}
    assert {name: row["score"] for name, row in rows.items()} == {
        "ada": "26",
        "bob": "25",
        "cy": "0",
        "dee.py": "0",
    }
    assert rows["bob"]["tanh"] == "0"
    assert (tmp_path / "grading" / "bob.gradescope.json").is_file()
    with zipfile.ZipFile(tmp_path / "autograder.zip") as archive:
        assert {"setup.sh", "run_autograder", "assignment.toml"} <= set(archive.namelist())


def test_the_guides_table_of_keys_is_the_files() -> None:
    """Every key of the assignment file is in the guide's table, and the table has no other."""
    text = GUIDE.read_text(encoding="utf-8")
    table = text[text.index("## The assignment file") : text.index("## Scores")]
    keys = set(re.findall(r"^\| `\[?(\w+)\]?` \|", table, flags=re.MULTILINE))
    assert keys == set(KEYS)
