"""Development sessions; ``nox --list`` describes each, ``nox`` runs the default set."""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import tarfile
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"

PYPROJECT = nox.project.load_toml("pyproject.toml")
PYTHONS = nox.project.python_versions(PYPROJECT)
TORCH_PYTHON = "3.11"  # the only Python for which torch==2.13.0 (CPU) is at hand

nox.options.sessions = [
    "lint",
    "typecheck",
    "tests",
    "parity",
    "moons",
    "notebook",
    "docs",
    "package",
    "coverage",
]

NOTEBOOK = "docs/micrograd_from_scratch.ipynb"


def _group(name: str) -> list[str]:
    """The requirements of dependency group ``name`` in pyproject.toml."""
    return list(nox.project.dependency_groups(PYPROJECT, name))


def _pytest_with_coverage(
    session: nox.Session, *args: str, env: dict[str, str] | None = None
) -> None:
    """Run pytest under pytest-cov into ``.coverage.<session>``; the ``coverage`` session combines.

    Processes the tests start (``python -m micrograd``, the oracle's workers) are measured
    through coverage's ``patch = ["subprocess"]`` in pyproject.toml, which pytest-cov's
    coverage applies too; pytest-cov combines their data into this session's file. The
    100% requirement is checked on the combined data, not here.
    """
    session.run(
        "pytest",
        "--cov",
        "--cov-report=",
        "--cov-fail-under=0",
        *args,
        *session.posargs,
        env={
            "COVERAGE_FILE": f".coverage.{session.name}",
            "HYPOTHESIS_PROFILE": os.environ.get("HYPOTHESIS_PROFILE", ""),
            **(env or {}),
        },
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Lint and check formatting with ruff."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=TORCH_PYTHON)
def typecheck(session: nox.Session) -> None:
    """Type-check src, tests and this file with mypy --strict."""
    session.install(".", *_group("typing"))
    session.run("mypy", *session.posargs)


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite without PyTorch on every supported Python (torch tests skip)."""
    session.install(".", *_group("test"))
    _pytest_with_coverage(session)


@nox.session(python=TORCH_PYTHON)
def parity(session: nox.Session) -> None:
    """Run the PyTorch float64 comparisons (torch==2.13.0); a missing torch fails, never skips."""
    session.install(".", *_group("test"), *_group("torch"))
    _pytest_with_coverage(session, "-m", "torch", env={"MICROGRAD_REQUIRE_TORCH": "1"})


@nox.session
def moons(session: nox.Session) -> None:
    """Train the demo configuration; check 100% accuracy, the loss bound and the pinned losses."""
    session.install(".", *_group("test"))
    session.run("pytest", "tests/test_moons.py", *session.posargs)


@nox.session
def notebook(session: nox.Session) -> None:
    """Check the tutorial notebook is committed without outputs, then run it top to bottom."""
    session.install(".", *_group("notebook"))
    session.run("python", "-c", _RUN_NOTEBOOK, NOTEBOOK)


_RUN_NOTEBOOK = """
import sys
import nbclient, nbformat

path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
stale = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
         and (c.get("outputs") or c.get("execution_count") is not None)]
if stale:
    sys.exit(f"{path}: code cells {stale} have outputs; clear them before committing")
nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                        resources={"metadata": {"path": "docs"}}).execute()
print(f"{path}: {len(nb.cells)} cells ran without error")
"""


@nox.session(python=TORCH_PYTHON)
def docs(session: nox.Session) -> None:
    """Build the docs (warnings as errors, the tutorial run), then check every page in Chromium."""
    if shutil.which("dot") is None:
        session.error(
            "the docs draw the tutorial's graph with Graphviz's dot program, which is not on "
            "PATH: install Graphviz (e.g. apt-get install graphviz)"
        )
    browser = next(
        (b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None
    )
    if browser is None:
        session.error(
            "the built pages are checked in headless Chromium, which is not on PATH: "
            "install it (e.g. apt-get install chromium)"
        )
    session.install(".[oracle]", *_group("docs"))  # the API page documents the oracle too
    html = "docs/_build/html"
    # -E: a fresh environment each time, so nothing of an earlier build (or config) lingers
    session.run("sphinx-build", "-E", "-W", "--keep-going", "-b", "html", "docs", html)
    session.run(
        "python",
        "-m",
        "tests.docs_site",
        html,
        "--browser",
        browser,
        "--screenshots",
        "docs/_build/screenshots",
        *session.posargs,
    )


@nox.session(python=TORCH_PYTHON)
def package(session: nox.Session) -> None:
    """Build and check the sdist and wheel; run the wheel's commands, and the README's demo."""
    session.install("build", "twine")
    dist = Path("dist")
    shutil.rmtree(dist, ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", str(dist))
    (sdist,) = dist.glob("*.tar.gz")
    (wheel,) = dist.glob("*.whl")
    session.run("twine", "check", "--strict", str(sdist), str(wheel))
    _check_contents(session, wheel, sdist)

    venv = Path(session.create_tmp()) / "wheel-venv"
    shutil.rmtree(venv, ignore_errors=True)
    session.run("python", "-m", "venv", str(venv))
    python, command = str(venv / "bin" / "python"), str(venv / "bin" / "micrograd-ref")
    session.run(python, "-m", "pip", "install", "--quiet", f"{wheel}[oracle]", external=True)
    session.run(command, "--version", external=True)
    session.run(command, "demo", "--steps", "5", external=True)  # no matplotlib: the text picture
    session.run(command, "check", "tests/oracle/engines/correct_closures.py", external=True)

    # The README's first command, verbatim, in the unpacked sdist (a clone's files, no .venv).
    clone = Path(session.create_tmp()) / "readme"
    shutil.rmtree(clone, ignore_errors=True)
    with tarfile.open(sdist) as archive:
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later; Debian's 3.11.2 has none
            archive.extractall(clone, filter="data")
        else:  # no filter needed: our own sdist, just built
            archive.extractall(clone)
    (top,) = clone.iterdir()
    with session.chdir(top):
        session.run("bash", "-c", _readme_commands()[0], external=True)
    if not (top / "boundary.png").read_bytes().startswith(b"\x89PNG"):
        session.error("the README's first command wrote no boundary.png")


def _readme_commands() -> list[str]:
    """The README's two commands, as written in its first console block: the demo, the tests."""
    text = Path("README.md").read_text(encoding="utf-8")
    return re.findall(r"^\$ (.+)$", text, flags=re.MULTILINE)[:2]


def _check_contents(session: nox.Session, wheel: Path, sdist: Path) -> None:
    """The wheel holds only the package and its metadata; the sdist also tests, docs, ports."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    strays = [n for n in names if not n.startswith(("micrograd/", "micrograd_ref-"))]
    if strays or "micrograd/py.typed" not in names:
        session.error(f"{wheel.name}: unexpected files {strays} or no micrograd/py.typed")
    with tarfile.open(sdist) as archive:
        top = {Path(n).parts[1] for n in archive.getnames() if len(Path(n).parts) > 1}
    missing = {"src", "tests", "docs", "examples", "noxfile.py", "README.md", "LICENSE"} - top
    if missing:
        session.error(f"{sdist.name}: missing {sorted(missing)}")
    session.log(f"{wheel.name}: {len(names)} files; {sdist.name}: {sorted(top)}")


KARPATHY = "micrograd==0.1.0"
"""Karpathy's engine, the benchmarks' baseline; it too imports as ``micrograd``."""


@nox.session(python=TORCH_PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Benchmark against Karpathy's micrograd and PyTorch, writing docs/benchmarks.md (slow)."""
    session.install(".", *_group("torch"))
    venv = Path(session.create_tmp()) / "karpathy-venv"  # his package needs a venv of its own
    if not venv.exists():
        session.run("python", "-m", "venv", str(venv))
    karpathy_python = str(venv / "bin" / "python")
    session.run(karpathy_python, "-m", "pip", "install", "--quiet", KARPATHY, external=True)
    session.run(
        "python", "-m", "benchmarks.run", "--karpathy-python", karpathy_python, *session.posargs
    )


THOROUGH_TESTS = (
    "tests/test_engine.py",
    "tests/test_rules.py",
    "tests/test_ops_numeric.py",
    "tests/test_ops_torch.py",
    "tests/test_gradcheck.py",
    "tests/test_nn.py",
    "tests/test_losses.py",
    "tests/test_optim.py",
)
"""The property tests of the engine and the library: where more examples find more."""


@nox.session(python=TORCH_PYTHON, default=False)
def thorough(session: nox.Session) -> None:
    """Run the property tests with 2,000 examples each and a fresh, printed seed (slow)."""
    session.install(".", *_group("test"), *_group("torch"))
    seed = os.environ.get("MICROGRAD_THOROUGH_SEED") or str(random.SystemRandom().getrandbits(32))
    session.log(
        f"Hypothesis seed {seed}; rerun with MICROGRAD_THOROUGH_SEED={seed} nox -s thorough"
    )
    session.run(
        "pytest",
        f"--hypothesis-seed={seed}",
        *(session.posargs or THOROUGH_TESTS),
        env={"HYPOTHESIS_PROFILE": "thorough", "MICROGRAD_REQUIRE_TORCH": "1"},
    )
    session.log(f"Hypothesis seed {seed}")


MUTATED = ("rules", "engine", "nn", "optim", "losses")
"""The modules ``nox -s mutation`` mutates (``[tool.mutmut]`` in pyproject.toml)."""
EQUIVALENTS = Path("tests/mutation_equivalents.txt")
"""Surviving mutants that change nothing observable, one a line with the reason."""
MIN_SCORE = 95.0
"""The least mutation score, in percent of the non-equivalent mutants, for each module."""


MUTATION_MEMORY = 4 << 30
"""Bytes of address space each mutmut process may use: a mutant that loops in ``backward()``
pushing nodes dies of MemoryError instead of filling the machine (it counts as killed)."""


@contextlib.contextmanager
def _memory_limit(limit: int) -> Iterator[None]:
    """Cap this process's address space, and so its children's, at ``limit`` bytes for a while."""
    try:
        import resource  # noqa: PLC0415 - POSIX only; elsewhere the run has no cap
    except ImportError:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    capped = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (capped, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@nox.session(python=TORCH_PYTHON, default=False)
def mutation(session: nox.Session) -> None:
    """Mutation-test rules, engine, nn, optim and losses with mutmut on the fast tests (slow)."""
    session.install(*_group("test"), *_group("mutation"))  # mutmut imports its own mutated copy
    if not session.posargs:
        shutil.rmtree("mutants", ignore_errors=True)  # a fresh run: the score is of these sources
    start = time.monotonic()
    with _memory_limit(MUTATION_MEMORY):
        session.run(
            "mutmut",
            "run",
            "--max-children",
            str(os.cpu_count() or 1),
            *session.posargs,
            env={"HYPOTHESIS_PROFILE": "mutation"},
        )
    minutes = (time.monotonic() - start) / 60
    results = session.run("mutmut", "results", "--all", "true", silent=True)
    assert isinstance(results, str)
    _check_mutation_results(session, results)
    session.log(f"mutmut ran for {minutes:.1f} minutes on {os.cpu_count()} CPUs")


def _check_mutation_results(session: nox.Session, results: str) -> None:
    """Score each module; fail on a survivor not in EQUIVALENTS, a stale entry or a low score."""
    status = dict(re.findall(r"^\s*(micrograd\.\S+): (.+?)\s*$", results, flags=re.MULTILINE))
    equivalent = {
        line.split()[0]
        for line in EQUIVALENTS.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    killed = {"killed", "timeout", "segfault"}  # a crash or a hang of the tests kills the mutant
    unexplained = sorted(m for m, s in status.items() if s not in killed and m not in equivalent)
    stale = sorted(m for m in equivalent if status.get(m) in killed or m not in status)
    low = []
    for module in MUTATED:
        mine = {m: s for m, s in status.items() if m.startswith(f"micrograd.{module}.")}
        counts = Counter("killed" if s in killed else s for s in mine.values())
        listed = sum(1 for m in mine if m in equivalent)
        score = 100.0 * counts["killed"] / max(1, len(mine) - listed)
        session.log(
            f"{module}.py: {len(mine)} mutants, {counts['killed']} killed, {listed} equivalent, "
            f"score {score:.1f}% ({100.0 * counts['killed'] / max(1, len(mine)):.1f}% of all)"
        )
        if score < MIN_SCORE:
            low.append(module)
    if unexplained or stale or low:
        session.error(
            f"surviving mutants neither killed nor in {EQUIVALENTS}: {unexplained}; "
            f"listed but killed or gone: {stale}; modules below {MIN_SCORE}%: {low}"
        )


@nox.session
def coverage(session: nox.Session) -> None:
    """Combine the coverage of the test sessions and require 100% branch coverage."""
    session.install("coverage[toml]")
    session.run("coverage", "combine")
    session.run("coverage", "report")
