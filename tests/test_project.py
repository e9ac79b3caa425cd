"""The project's own documents agree with its noxfile."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from micrograd.demo import DEFAULT_OUT

ROOT = Path(__file__).resolve().parent.parent


def _nox_sessions() -> set[str]:
    """The session names defined in noxfile.py (functions decorated with nox.session)."""
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if ast.unparse(target) == "nox.session":
                    names.add(node.name)
    return names


def _table_sessions(path: Path) -> set[str]:
    """The sessions named in the first column of the document's table headed ``| session |``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| session |"))
    names = set()
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        first_cell = line.split("|")[1]
        names |= {re.sub(r"-3\.\d+$", "", n) for n in re.findall(r"`([\w.-]+)`", first_cell)}
    return names


@pytest.mark.parametrize("document", ["README.md", "CONTRIBUTING.md"])
def test_session_table_lists_every_nox_session(document: str) -> None:
    """The session table of the README and of CONTRIBUTING names exactly the noxfile's sessions."""
    assert _table_sessions(ROOT / document) == _nox_sessions()


def _session_pythons() -> dict[str, str]:
    """Each noxfile session's Python as the tables write it: "nox's", "3.11", "3.10 … 3.13"."""
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    constants = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
    }
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    versions = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', pyproject)
    pythons = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "nox.session":
                given = {k.arg: k.value for k in decorator.keywords}.get("python")
                if given is None:
                    pythons[node.name] = "nox's"
                elif isinstance(given, ast.Name) and given.id == "PYTHONS":
                    pythons[node.name] = f"{versions[0]} … {versions[-1]}"
                else:
                    assert isinstance(given, ast.Name)
                    pythons[node.name] = str(constants[given.id])
            elif ast.unparse(decorator) == "nox.session":
                pythons[node.name] = "nox's"
    return pythons


@pytest.mark.parametrize("document", ["README.md", "CONTRIBUTING.md"])
def test_session_table_says_which_python_each_session_needs(document: str) -> None:
    """The tables' second column is the Python the noxfile gives each session."""
    lines = (ROOT / document).read_text(encoding="utf-8").splitlines()
    start = lines.index("| session | Python | what it does |")
    written = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.split("|")[1:-1]]
        name = re.sub(r"-3\.\d+$", "", re.findall(r"`([\w.-]+)`", cells[0])[0])
        written[name] = cells[1]
    assert written == _session_pythons()


def _not_default() -> set[str]:
    """The noxfile's sessions marked ``default=False``, which a plain ``nox`` does not run."""
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
        for decorator in node.decorator_list
        if isinstance(decorator, ast.Call)
        and any(
            k.arg == "default" and isinstance(k.value, ast.Constant) and k.value.value is False
            for k in decorator.keywords
        )
    }


@pytest.mark.parametrize("document", ["README.md", "CONTRIBUTING.md"])
def test_missing_pythons_are_said_to_be_skipped(document: str) -> None:
    """README and CONTRIBUTING warn that sessions whose Python is missing are skipped locally."""
    text = " ".join((ROOT / document).read_text(encoding="utf-8").split())
    assert "skipped" in text
    for session, python in _session_pythons().items():
        if python == "3.11" and session not in _not_default():
            assert f"`{session}`" in text.split("skipped", 1)[1][:400]


def test_readme_commands_keep_their_environment_in_dot_venv() -> None:
    """Both README commands create ``.venv`` and install into it, never into the Python at hand."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    demo, tests = re.findall(r"^\$ (.+)$", readme, flags=re.MULTILINE)[:2]
    for command in (demo, tests):
        first, *rest = command.split(" && ")
        assert first == "python3 -m venv .venv"
        assert all(part.startswith(".venv/bin/python -m ") for part in rest)
    assert demo.endswith("-m micrograd demo")
    assert tests.endswith("-m nox")
    assert "`.venv/` in the clone" in readme


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    """.ci/run calls exactly the test command the README shows (its second console line)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^\$ (.+)$", readme, flags=re.MULTILINE)
    test_command = next(c for c in commands if "nox" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


# What the README and the docs tell a user to run writes these, relative to the clone.
OUTPUTS = [
    str(DEFAULT_OUT),  # micrograd-ref demo
    "boundary.svg",  # demo --out boundary.svg
    "boundary.pdf",
    "graph.svg",  # save_graph(value, "graph.svg")
    "smoke.md",  # nox -s bench -- --smoke --output smoke.md
    "grading/summary.json",  # micrograd-ref grade submissions/
    "results.json",  # micrograd-ref check engine.py --gradescope results.json
    "report.json",  # micrograd-ref check engine.py --json report.json
    "vectors.json",  # micrograd-ref vectors -o vectors.json
    "examples/ports/c/adapter",  # docs/ports.md: cc -O2 -o adapter adapter.c engine.c -lm
    "examples/ports/c/vectors",  # cc -O2 -o vectors vectors.c engine.c -lm
    "examples/ports/rust/adapter",  # rustc -O adapter.rs
    ".venv/bin/python",  # the README's environment
    ".nox/tests-3-11/bin/python",
    "docs/_build/html/index.html",  # nox -s docs
    "docs/_build/screenshots/index.png",
    ".coverage.tests-3.11",
]


def test_outputs_written_into_a_clone_are_ignored_by_git() -> None:
    """Running the README's and the docs' commands in a clone leaves ``git status`` clean."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git clone (an sdist, say)")
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "--verbose", "--non-matching", *OUTPUTS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    not_ignored = [
        line.split("\t")[-1] for line in done.stdout.splitlines() if line.startswith("::")
    ]
    assert not_ignored == []
    assert len(done.stdout.splitlines()) == len(OUTPUTS)


def test_ci_installs_what_the_docs_session_and_the_sandbox_need() -> None:
    """.ci/run installs Graphviz, Chromium and bubblewrap from Debian, after refreshing apt."""
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    update = next(i for i, line in enumerate(lines) if line.startswith("apt-get update"))
    install = next(i for i, line in enumerate(lines) if "apt-get install" in line)
    assert update < install
    assert {"graphviz", "chromium", "bubblewrap"} <= set(lines[install].split())
