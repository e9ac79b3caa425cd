"""Where a submission's engine is: its file, its Value-like classes, its package; by ast only.

Nothing here imports or runs a student's code. A file that cannot be read, is
not UTF-8 (or its declared encoding) or does not parse has no classes and no
imports; a notebook is read cell by cell, IPython-only lines dropped.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

from micrograd.oracle.targets.notebook import cell_trees
from micrograd.oracle.targets.syntax import parse_python, value_like_names

SKIPPED_FOLDERS = frozenset({"__pycache__", "__MACOSX", ".ipynb_checkpoints"})
"""Folders never searched for an engine, besides hidden ones and virtual environments."""


def _trees(path: Path) -> list[ast.Module]:
    """The syntax trees of a ``.py`` file (one) or a notebook (one per cell that parses)."""
    try:
        if path.suffix == ".ipynb":
            return cell_trees(path)
        tree = parse_python(path.read_bytes()) if path.suffix == ".py" else None
    except (OSError, ValueError):  # unreadable, or not a notebook
        return []
    return [tree] if tree is not None else []


def value_like_classes(path: Path) -> list[str]:
    """The top-level classes of a ``.py`` or ``.ipynb`` file that look like an autograd scalar.

    Such a class defines (or assigns) ``__add__`` or ``__mul__``, and either a
    method whose name contains "backward" or "backprop" (in any case) or an
    assignment to a ``grad`` attribute or name. Use it to say "engine.py has no
    class 'Value'; it defines Scalar: use engine.py:Scalar".

    Returns:
        Their names in file order, each once; empty for a file that cannot be
        read or parsed, or of another kind.
    """
    return value_like_names(_trees(path))


def _sources(folder: Path) -> Iterator[Path]:
    """The ``.py`` and ``.ipynb`` files under ``folder``, sorted, skipped folders left out."""
    for root, folders, files in os.walk(folder):
        folders[:] = sorted(
            name
            for name in folders
            if not name.startswith(".")
            and name not in SKIPPED_FOLDERS
            and not Path(root, name, "pyvenv.cfg").is_file()
        )
        for name in sorted(files):
            if name.endswith((".py", ".ipynb")) and not name.startswith("."):
                yield Path(root, name)


def find_engine(folder: Path, class_name: str = "Value") -> Path:
    """The engine of a submission folder.

    It is ``folder/engine.py`` if there is one, else ``folder/micrograd/engine.py``
    (Karpathy's layout), else the one ``.py`` or ``.ipynb`` file under ``folder``
    that defines a top-level class ``class_name``. The search skips hidden
    files and folders, :data:`SKIPPED_FOLDERS` and virtual environments
    (folders with a ``pyvenv.cfg``).

    Args:
        folder: The submission's folder.
        class_name: The class the engine must define.

    Returns:
        The engine's path, under ``folder``; a notebook is for
        :func:`~micrograd.oracle.targets.notebook.notebook_source` to read.

    Raises:
        LookupError: If ``folder`` is not a folder, or no file or several
            define ``class_name``. The message lists the candidates, or else the
            Value-like classes found, and what to pass instead.
    """
    if not folder.is_dir():
        raise LookupError(f"{folder}: no such folder")
    for known in (folder / "engine.py", folder / "micrograd" / "engine.py"):
        if known.is_file():
            return known
    candidates: list[Path] = []
    others: list[str] = []
    for path in _sources(folder):
        trees = _trees(path)
        if any(isinstance(n, ast.ClassDef) and n.name == class_name for t in trees for n in t.body):
            candidates.append(path)
        others += [
            f"{path.relative_to(folder).as_posix()}:{name}" for name in value_like_names(trees)
        ]
    if len(candidates) == 1:
        return candidates[0]
    wanted = f"a class {class_name!r}"
    if candidates:
        listed = ", ".join(path.relative_to(folder).as_posix() for path in candidates)
        raise LookupError(
            f"{folder}: several files define {wanted}: {listed}; "
            f"pass the one to grade, e.g. {candidates[0]}:{class_name}"
        )
    if others:
        raise LookupError(
            f"{folder}: no .py or .ipynb file defines {wanted}, but these classes look like "
            f"an autograd scalar: {', '.join(others)}; pass one instead, e.g. {folder / others[0]}"
        )
    raise LookupError(
        f"{folder}: no .py or .ipynb file defines {wanted}, nor any class with __add__ or "
        f"__mul__ and backward() or grad; pass the engine as FILE:CLASS, e.g. engine.py:Scalar"
    )


def find_nn(folder: Path, pattern: str = "nn.py", engine: Path | None = None) -> Path:
    """The neural-network module of a submission folder, found as :func:`find_engine` finds one.

    It is the one file matching ``pattern`` (a name or a glob) in ``folder``;
    for a name, failing that, the file of that name beside ``engine``, else
    ``folder/micrograd/<name>`` (Karpathy's layout).

    Raises:
        LookupError: If there is none, or a glob matches several files; the
            message names the places looked at, or the files.
    """
    found = sorted(path for path in folder.glob(pattern) if path.is_file())
    if len(found) > 1:
        names = ", ".join(path.relative_to(folder).as_posix() for path in found[:5])
        raise LookupError(f"several files match {pattern}: {names}")
    places = [*found]
    if not any(ch in pattern for ch in "*?["):
        places += [] if engine is None else [engine.parent / pattern]
        places.append(folder / "micrograd" / pattern)
    for place in places:
        if place.is_file():
            return place
    looked = dict.fromkeys(  # in order, each once: the engine's folder may be one of the others
        Path(os.path.relpath(place.resolve(), folder.resolve())).as_posix()
        for place in [folder / pattern, *places]
    )
    raise LookupError(f"no {pattern} found in the submission (looked for {', '.join(looked)})")


def _relative_depth(path: Path) -> int:
    """How many folders up the file's deepest relative import goes: 1 for ``from . import x``."""
    levels = (n.level for t in _trees(path) for n in ast.walk(t) if isinstance(n, ast.ImportFrom))
    return max(levels, default=0)


def package_module(path: Path) -> tuple[Path, str] | None:
    """The ``sys.path`` folder and dotted name that import a ``.py`` file as a package member.

    The rule: a file with no relative import (anywhere in it, ``try`` blocks and
    functions included) is None: it imports as a plain file. Otherwise its
    folders are taken as packages, walking up from its own, while either

    - fewer folders have been taken than a relative import needs: one with
      ``n`` dots, in a file (or ``__init__.py``) of the ``i``-th folder taken
      (the file's own is the 0th), needs ``i + n`` folders; the file and the
      ``.py`` files beside it in every folder taken count, so a namespace
      package (no ``__init__.py``) is found from its members' imports; or
    - the folder has an ``__init__.py`` and a name that is a Python
      identifier (a regular package, as ``import`` would see it).

    The ``sys.path`` folder is the first folder not taken.

    Args:
        path: A ``.py`` file, e.g. ``pkg/nn.py`` with ``from .engine import Value``.

    Returns:
        ``(root, dotted_name)``, e.g. (the folder holding ``pkg``, ``"pkg.nn"``),
        with ``root`` absolute; ``pkg/__init__.py`` is ``"pkg"``. None for a
        file with no relative imports, or not a ``.py`` file.

    Raises:
        ValueError: If a folder that must be a package (or the file's stem)
            is not a Python identifier, e.g. ``my-engine``, or the relative
            imports go above the filesystem's root.
    """
    path = path.resolve()
    need = _relative_depth(path) if path.suffix == ".py" else 0
    if not need:
        return None
    names = [] if path.stem == "__init__" else [path.stem]
    if names and not path.stem.isidentifier():
        raise ValueError(f"{path}: {path.stem!r} cannot be a module name (not an identifier)")
    folder, depth = path.parent, 0
    while depth < need or ((folder / "__init__.py").is_file() and folder.name.isidentifier()):
        if not folder.name.isidentifier():
            raise ValueError(
                f"{path}: its relative imports need {folder} to be a package, "
                f"and {folder.name!r} cannot be one (not an identifier)"
            )
        beside = (_relative_depth(member) for member in folder.glob("*.py"))
        need = max(need, depth + max(beside, default=0))
        names.insert(0, folder.name)
        folder, depth = folder.parent, depth + 1
    return folder, ".".join(names)
