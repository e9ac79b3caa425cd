"""micrograd-ref mixed with Karpathy's micrograd (the same package name) is one line, not a crash.

The folders here are laid out as pip lays out site-packages: the package's
files and a ``.dist-info`` whose RECORD lists them with their hashes.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import micrograd
from micrograd import install_check
from micrograd.install_check import ADVICE, Finding, check
from tests.oracle.helpers import karpathy_micrograd


def _install(site: Path, name: str, files: dict[str, bytes], *, unhashed: str = "") -> None:
    """Write ``files`` into ``site`` as pip installs ``name`` 0.1.0 (``unhashed``: no hash)."""
    info = site / f"{name.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    lines = []
    for relative, content in files.items():
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
        lines.append(
            f"{relative},,\n"
            if relative == unhashed
            else f"{relative},sha256={digest},{len(content)}\n"
        )
    lines.append(f"{info.name}/RECORD,,\n")
    (info / "RECORD").write_text("".join(lines))


def _uninstall(site: Path, info: str) -> None:
    """Delete every file the RECORD of ``info`` lists, as ``pip uninstall`` does."""
    for line in (site / info / "RECORD").read_text().splitlines():
        (site / line.split(",")[0]).unlink(missing_ok=True)
    shutil.rmtree(site / info, ignore_errors=True)


OURS = {
    "micrograd/__init__.py": b'"""micrograd-ref."""\n',
    "micrograd/engine.py": b"class Value: ...\n",
    "micrograd/nn.py": b"class MLP: ...\n",
    "micrograd/cli.py": b"def main(): ...\n",
}
THEIRS = {
    "micrograd/__init__.py": b"",
    "micrograd/engine.py": b"class Value:\n    pass\n",
    "micrograd/nn.py": b"class MLP:\n    pass\n",
}


class TestCheck:
    """check() reads what pip recorded and names what went wrong."""

    def test_nothing_installed_is_no_finding(self, tmp_path: Path) -> None:
        """Without micrograd-ref's metadata (a source tree) there is nothing to check."""
        assert check([str(tmp_path)]) is None

    def test_a_clean_install_is_no_finding(self, tmp_path: Path) -> None:
        """micrograd-ref alone, its files as recorded, is fine."""
        _install(tmp_path, "micrograd-ref", OURS)
        assert check([str(tmp_path)]) is None

    def test_theirs_over_ours_is_fatal_and_names_the_files(self, tmp_path: Path) -> None:
        """Karpathy's micrograd installed after micrograd-ref: the replaced files, what to do."""
        _install(tmp_path, "micrograd-ref", OURS)
        _install(tmp_path, "micrograd", THEIRS)
        assert check([str(tmp_path)]) == Finding(
            "Karpathy's micrograd 0.1.0 was installed over micrograd-ref 0.1.0: both install the "
            "Python package micrograd, and micrograd/__init__.py, micrograd/engine.py and "
            f"micrograd/nn.py are no longer micrograd-ref's; {ADVICE}",
            fatal=True,
        )

    def test_ours_over_theirs_is_a_warning(self, tmp_path: Path) -> None:
        """micrograd-ref installed after Karpathy's micrograd works, but says what it did."""
        _install(tmp_path, "micrograd", THEIRS)
        _install(tmp_path, "micrograd-ref", OURS)
        finding = check([str(tmp_path)])
        assert finding is not None
        assert not finding.fatal
        assert finding.message.startswith("Karpathy's micrograd 0.1.0 is installed too: ")
        assert "uninstalling either deletes files of the other" in finding.message

    def test_theirs_uninstalled_leaves_ours_missing_files(self, tmp_path: Path) -> None:
        """Uninstalling Karpathy's micrograd after micrograd-ref deletes the files they share."""
        _install(tmp_path, "micrograd", THEIRS)
        _install(tmp_path, "micrograd-ref", OURS)
        _uninstall(tmp_path, "micrograd-0.1.0.dist-info")
        assert check([str(tmp_path)]) == Finding(
            "micrograd-ref 0.1.0 is missing micrograd/__init__.py, micrograd/engine.py and "
            "micrograd/nn.py: uninstalling Karpathy's micrograd, which installs the same Python "
            f"package, deletes them; {ADVICE}",
            fatal=True,
        )

    def test_many_missing_files_are_counted(self, tmp_path: Path) -> None:
        """Past three names, the message says how many more."""
        many = {f"micrograd/m{i}.py": b"" for i in range(5)}
        _install(tmp_path, "micrograd-ref", many)
        shutil.rmtree(tmp_path / "micrograd")
        finding = check([str(tmp_path)])
        assert finding is not None
        assert "missing micrograd/m0.py, micrograd/m1.py, micrograd/m2.py and 2 more:" in (
            finding.message
        )

    def test_a_file_recorded_without_a_hash_counts_as_its_own(self, tmp_path: Path) -> None:
        """A shared file pip recorded without a hash cannot be told replaced: a warning only."""
        _install(
            tmp_path,
            "micrograd-ref",
            {"micrograd/engine.py": b"ours"},
            unhashed="micrograd/engine.py",
        )
        _install(tmp_path, "micrograd", {"micrograd/engine.py": b"theirs"})
        finding = check([str(tmp_path)])
        assert finding is not None
        assert not finding.fatal


class TestExitIfMixed:
    """exit_if_mixed() prints one line on stderr and exits 2 only when micrograd-ref cannot run."""

    @pytest.mark.parametrize(
        ("finding", "line", "exits"),
        [
            (None, "", False),
            (Finding("it is mixed", fatal=False), "micrograd-ref: warning: it is mixed\n", False),
            (Finding("it is broken", fatal=True), "micrograd-ref: error: it is broken\n", True),
        ],
    )
    def test_one_line(
        self,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        finding: Finding | None,
        line: str,
        exits: bool,
    ) -> None:
        """Nothing when all is well, a warning line, or an error line and status 2."""
        monkeypatch.setattr(install_check, "check", lambda: finding)
        if exits:
            with pytest.raises(SystemExit) as stopped:
                install_check.exit_if_mixed()
            assert stopped.value.code == 2
        else:
            install_check.exit_if_mixed()
        assert capsys.readouterr() == ("", line)


def _our_files() -> dict[str, bytes]:
    """The files of the micrograd package being tested, as ``micrograd/…`` paths."""
    package = Path(micrograd.__file__).parent
    return {
        f"micrograd/{path.relative_to(package).as_posix()}": path.read_bytes()
        for path in sorted(package.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def karpathy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Karpathy's micrograd as pip installs it, once for the module."""
    return karpathy_micrograd(tmp_path_factory)


class TestWithKarpathysPackage:
    """The real thing: Karpathy's micrograd 0.1.0 from PyPI and this micrograd-ref, mixed."""

    @pytest.mark.parametrize(
        ("order", "status", "stderr"),
        [
            (
                ["ours", "theirs"],
                2,
                "micrograd-ref: error: Karpathy's micrograd 0.1.0 was installed over",
            ),
            (
                ["theirs", "ours"],
                0,
                "micrograd-ref: warning: Karpathy's micrograd 0.1.0 is installed too",
            ),
            (
                ["theirs", "ours", "uninstall theirs"],
                2,
                "micrograd-ref: error: micrograd-ref 0.1.0 is missing",
            ),
        ],
        ids=["theirs-over-ours", "ours-over-theirs", "theirs-uninstalled"],
    )
    def test_the_command_says_so_in_one_line(
        self,
        tmp_path: Path,
        karpathy: Path,
        order: list[str],
        status: int,
        stderr: str,
    ) -> None:
        """`micrograd-ref --version` on a mixed install prints one line, no traceback."""
        site = tmp_path / "site-packages"
        for step in order:
            if step == "ours":
                _install(site, "micrograd-ref", _our_files())
            elif step == "theirs":
                shutil.copytree(karpathy, site, dirs_exist_ok=True)
            else:
                _uninstall(site, "micrograd-0.1.0.dist-info")
        done = subprocess.run(
            # -S: no site-packages, so the only micrograd is the one in `site`
            [sys.executable, "-S", "-m", "micrograd", "--version"],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(site)},
        )
        assert (done.returncode, done.stderr.count("\n")) == (status, 1), done.stderr
        assert done.stderr.startswith(stderr)
        assert done.stdout == (f"micrograd-ref {micrograd.__version__}\n" if status == 0 else "")
