"""A complete Gradescope autograder: one zip with setup.sh, run_autograder, the assignment, a wheel.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh``
once while it builds the image, then ``run_autograder`` for every
submission (handed in under ``/autograder/submission``), and reads
``/autograder/results/results.json``. The zip carries micrograd-ref itself
as a wheel made from the running installation, so the image gets exactly the
grader the teacher tried, not whatever a package index serves.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import zipfile
from pathlib import Path
from typing import Final

import micrograd
from micrograd.oracle.assignment import default_text

__all__ = ["DISTRIBUTION", "build", "wheel"]

DISTRIBUTION: Final = "micrograd-ref"

_SETUP: Final = """\
#!/usr/bin/env bash
# Gradescope runs this once, building the image: install micrograd-ref from the bundled wheel.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${{MICROGRAD_AUTOGRADER_PYTHON:-python3}}"
"$PYTHON" -m pip install --quiet "./{wheel}[oracle]"
"$PYTHON" -m micrograd --version
"""

_RUN: Final = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes results/results.json.
# check finds the engine, and the network when the assignment grades one, as grade does.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${MICROGRAD_AUTOGRADER_PYTHON:-python3}"
mkdir -p "$ROOT/results"
"$PYTHON" -m micrograd check "$ROOT/submission" \\
  --assignment "$ROOT/source/assignment.toml" --gradescope "$ROOT/results/results.json"
exit 0  # the verdict is in results.json; Gradescope reads a failing exit as a broken grader
"""


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def wheel(folder: Path) -> Path:
    """Write a wheel of the running micrograd-ref into ``folder``; return its path.

    It holds the ``micrograd`` package as imported (source files and
    ``py.typed``, no caches) and the distribution's own metadata, so an
    editable install and an installed wheel give the same file.

    Raises:
        LookupError: If micrograd-ref's distribution metadata cannot be found.
    """
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError as exc:
        raise LookupError(f"{DISTRIBUTION} is not installed: pip install it first") from exc
    version = dist.version
    info = f"micrograd_ref-{version}.dist-info"
    package = Path(micrograd.__file__).parent
    files: list[tuple[str, bytes]] = [
        (f"micrograd/{path.relative_to(package).as_posix()}", path.read_bytes())
        for path in sorted(package.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".typed")
    ]
    metadata = dist.read_text("METADATA") or f"Metadata-Version: 2.1\nName: {DISTRIBUTION}\n"
    files.append((f"{info}/METADATA", metadata.encode()))
    files.append(
        (
            f"{info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: micrograd-ref\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n",
        )
    )
    entry_points = dist.read_text("entry_points.txt")
    if entry_points:
        files.append((f"{info}/entry_points.txt", entry_points.encode()))
    record = "\n".join(_record_line(name, data) for name, data in files)
    files.append((f"{info}/RECORD", f"{record}\n{info}/RECORD,,\n".encode()))
    path = folder / f"micrograd_ref-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return path


def build(assignment_file: Path | None, out: Path) -> list[str]:
    """Write the autograder zip to ``out``; return the names it holds.

    ``assignment_file`` is copied in as ``assignment.toml`` (None: the
    default assignment's file).

    Raises:
        LookupError: If micrograd-ref's distribution metadata cannot be found.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(out.name + ".parts")
    staging.mkdir(exist_ok=True)
    try:
        built = wheel(staging)
        scripts = {
            "setup.sh": _SETUP.format(wheel=built.name),
            "run_autograder": _RUN,
        }
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in scripts.items():
                entry = zipfile.ZipInfo(name)
                entry.external_attr = 0o100755 << 16  # executable, as Gradescope runs them
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, text)
            if assignment_file is None:
                archive.writestr("assignment.toml", default_text())
            else:
                archive.write(assignment_file, "assignment.toml")
            archive.write(built, built.name)
            return archive.namelist()
    finally:
        for part in staging.iterdir():
            part.unlink()
        staging.rmdir()
