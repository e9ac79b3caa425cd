"""A Jupyter notebook as a module: its code cells up to the engine, IPython-only lines made inert.

IPython accepts lines that Python does not. At the start of a statement (not
inside a string, brackets or a backslash continuation) these are dropped:
shell lines (``!pip install micrograd``), line magics (``%matplotlib inline``),
help (``?Value``, ``Value.backward??``), shell or magic output assigned to a
name (``files = !ls``) and ``get_ipython().…`` calls with their continuation
lines. A dropped line becomes ``pass`` at its own indentation (a continuation
line becomes blank), so blocks stay valid and every line keeps its number
within its cell. A cell starting with a cell magic is dropped whole unless the
magic is in :data:`KEPT_CELL_MAGICS`. ``display(...)`` is kept: the module
starts by defining a ``display`` that draws nothing, as Jupyter's does outside
Jupyter.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from micrograd.oracle.targets.syntax import parse_python, value_like_names

KEPT_CELL_MAGICS = frozenset({"capture", "time"})
"""Cell magics whose body is kept, its magic line blanked: Jupyter runs it once, as Python.

Their body runs in the notebook's namespace, so what it defines is there for
later cells. Any other cell magic drops its whole cell: ``%%timeit`` repeats its
body in a namespace of its own, and ``%%writefile``, ``%%bash`` or ``%%html`` do
not run it as Python.
"""

_DISPLAY = 'def display(*objects, **options): """Jupyter\'s display(); here it draws nothing."""'
_ESCAPES = ("!", "%", "?")  # never the start of a Python statement
_HELP = re.compile(r"\s*[\w.*\[\]]+\?{1,2}\s*")  # len?, Value.backward??, np.*load*?
_ASSIGNED = re.compile(r"\s*[\w.]+\s*=\s*[!%]")  # files = !ls, t = %timeit f()
_NEWLINE = re.compile(r"\r\n?|\n")  # Python's line ends; str.splitlines knows more


@dataclass(frozen=True)
class NotebookSource:
    """A notebook's code cells as the Python source of one module.

    Cells are numbered as Jupyter users see them: the n-th code cell of the
    notebook, from 1, counting code cells only (not markdown or raw cells) and
    whatever their execution count (``In [7]``) says.
    """

    source: str
    """The Python to run: a header, then each cell of ``cells_run`` after a ``# %%`` line."""
    cells_run: tuple[int, ...]
    """The code cells in ``source``: those up to the engine's last that have code to run."""
    cells_total: int
    """How many code cells the notebook has."""
    skipped_lines: int
    """How many lines of those cells (up to the engine's last) were dropped as IPython-only."""
    origins: tuple[tuple[int, int] | None, ...] = field(default=(), repr=False)
    """For each line of ``source``, its code cell and line in that cell; None for added lines."""
    chunks: tuple[tuple[int, int, int, bool], ...] = ()
    """For each cell run: ``(cell, first line, last line, essential)`` in ``source``.

    An essential cell defines a name in :attr:`wanted`; the others may be
    skipped when they raise (scratch code using a package missing here), as
    Jupyter goes on to the next cell after an error.
    """
    wanted: tuple[str, ...] = ()
    """The names whose last definition decided where the notebook stops (``Value``, ``MLP`` …)."""
    later_functions: tuple[tuple[str, int], ...] = ()
    """Functions defined at the top of the cells that did not run, with their code cells.

    A ``backward`` written as a function below the class is one of them until
    ``--backward`` names it; the load error lists them.
    """

    def where(self, line: int) -> tuple[int, int] | None:
        """The code cell and the line within it (both from 1) of ``source``'s line ``line``.

        Args:
            line: A line number of ``source``, from 1, as a traceback gives it.

        Returns:
            ``(cell, line_in_cell)``, or None for a line the notebook does not
            have (the header, a ``# %%`` line, or a number out of range).
        """
        return self.origins[line - 1] if 1 <= line <= len(self.origins) else None


@dataclass
class _Scanner:
    """Just enough of Python's tokenizer to know whether a line starts a statement."""

    quote: str = ""  # the delimiter of the string left open
    depth: int = 0  # brackets left open
    continued: bool = False  # the last line ended with a backslash

    @property
    def at_statement(self) -> bool:
        return not (self.quote or self.depth or self.continued)

    def feed(self, line: str) -> None:
        i, self.continued = 0, False
        while i < len(line):
            char = line[i]
            if self.quote:
                if char == "\\":
                    i += 2  # an escaped character, the closing quote included
                elif line.startswith(self.quote, i):
                    i, self.quote = i + len(self.quote), ""
                else:
                    i += 1
                continue
            if char == "#":
                return
            if char in "'\"":
                self.quote = char * 3 if line.startswith(char * 3, i) else char
                i += len(self.quote)
                continue
            self.depth = max(0, self.depth + (char in "([{") - (char in ")]}"))
            i += 1
        if len(self.quote) == 1 and not line.endswith("\\"):
            self.quote = ""  # an unterminated string: Python will say so
        self.continued = not self.quote and line.endswith("\\")


def _ipython_only(line: str) -> bool:
    """Whether ``line``, starting a statement, is IPython syntax that Python lacks."""
    code = line.lstrip()
    return code.startswith(_ESCAPES) or bool(_HELP.fullmatch(line) or _ASSIGNED.match(line))


def _python_lines(cell: str) -> tuple[list[str], int]:
    """The cell's lines with IPython-only ones made inert, and how many were dropped.

    The list is empty when nothing of the cell is left to run.
    """
    lines = _NEWLINE.split(cell.rstrip("\r\n"))
    filled = [line for line in lines if line.strip()]
    skipped = 0
    if filled and filled[0].lstrip().startswith("%%"):
        magic = (filled[0].lstrip()[2:].split() or [""])[0]
        if magic not in KEPT_CELL_MAGICS:
            return [], len(filled)
        lines[lines.index(filled[0])] = ""
        skipped = 1
    scanner, kept, dropping = _Scanner(), False, False
    out: list[str] = []
    for line in lines:
        code = line.lstrip()
        if scanner.at_statement:
            dropping = code.startswith("get_ipython().")
            if dropping or _ipython_only(line):
                out.append(line[: len(line) - len(code)] + "pass")
                skipped += 1
                if dropping:
                    scanner.feed(line)  # its call may go on over the next lines
                continue
        elif dropping:
            scanner.feed(line)
            out.append("")
            skipped += 1
            continue
        scanner.feed(line)
        out.append(line)
        kept = kept or bool(code)
    return (out if kept else []), skipped


def _code_cells(path: Path) -> list[str]:
    """The text of each code cell of the notebook at ``path``, in order."""
    try:
        document = json.loads(path.read_bytes())
    except ValueError as exc:  # bad JSON, or not UTF-8
        raise ValueError(f"{path.name} is not a Jupyter notebook: {exc}") from None
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        raise ValueError(f"{path.name} is not a Jupyter notebook: it has no list of 'cells'")
    texts: list[str] = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(part, str) for part in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise ValueError(f"{path.name}: code cell {len(texts) + 1}'s source is not text")
        texts.append(source)
    return texts


@dataclass(frozen=True)
class _Cell:
    number: int
    lines: list[str]
    skipped: int
    tree: ast.Module | None


def _cells(path: Path) -> list[_Cell]:
    cells = []
    for number, text in enumerate(_code_cells(path), start=1):
        lines, skipped = _python_lines(text)
        tree = parse_python("\n".join(lines)) if lines else None
        cells.append(_Cell(number, lines, skipped, tree))
    return cells


def cell_trees(path: Path) -> list[ast.Module]:
    """The syntax tree of each code cell of a notebook that parses, IPython-only lines dropped.

    Raises:
        OSError: If the file cannot be read.
        ValueError: If the file is not a notebook.
    """
    return [cell.tree for cell in _cells(path) if cell.tree is not None]


_Definition = ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


def _definitions(tree: ast.Module | None) -> list[_Definition]:
    if tree is None:
        return []
    kinds = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return [node for node in tree.body if isinstance(node, kinds)]


def notebook_source(path: Path, needs: Collection[str]) -> NotebookSource:
    """The notebook's code cells, in order, up to the last one defining a name in ``needs``.

    A cell defines a name if it has a class or function of that name at its top
    level. Cells below the last such cell (training, plotting) are left out;
    cells above it are kept, even those that do not parse, so that their error
    is the student's to see.

    Args:
        path: The ``.ipynb`` file (nbformat 4).
        needs: The classes or functions wanted, e.g. ``{"Value"}`` or ``{"Value", "MLP"}``.

    Raises:
        OSError: If the file cannot be read.
        ValueError: If the file is not a notebook (bad JSON, or no list of cells).
        LookupError: If no cell defines any name in ``needs``; the message
            names the classes the notebook does define and the target to pass.
    """
    cells = _cells(path)
    wanted = set(needs)
    defining = [c.number for c in cells if {d.name for d in _definitions(c.tree)} & wanted]
    if not defining:
        raise LookupError(_no_definition(path, wanted, cells))
    header = f"# {path.name}, code cells 1 to {defining[-1]}, as a module by micrograd-ref"
    lines: list[str] = [header, _DISPLAY]
    origins: list[tuple[int, int] | None] = [None, None]
    run: list[int] = []
    chunks: list[tuple[int, int, int, bool]] = []
    skipped = 0
    for cell in cells[: defining[-1]]:
        skipped += cell.skipped
        if not cell.lines:
            continue
        run.append(cell.number)
        lines.append(f"# %% code cell {cell.number}")
        origins.append(None)
        essential = bool({d.name for d in _definitions(cell.tree)} & wanted)
        chunks.append((cell.number, len(lines) + 1, len(lines) + len(cell.lines), essential))
        lines.extend(cell.lines)
        origins.extend((cell.number, line) for line in range(1, len(cell.lines) + 1))
    later = tuple(
        (d.name, cell.number)
        for cell in cells[defining[-1] :]
        for d in _definitions(cell.tree)
        if not isinstance(d, ast.ClassDef)
    )
    text = "\n".join(lines) + "\n"
    return NotebookSource(
        text,
        tuple(run),
        len(cells),
        skipped,
        tuple(origins),
        tuple(chunks),
        tuple(sorted(wanted)),
        later,
    )


def _no_definition(path: Path, wanted: set[str], cells: list[_Cell]) -> str:
    names = " or ".join(repr(name) for name in sorted(wanted)) or "at all"
    found = (d for cell in cells for d in _definitions(cell.tree) if isinstance(d, ast.ClassDef))
    classes = list(dict.fromkeys(d.name for d in found))
    if not classes:
        return f"{path.name} defines no class {names} (it defines no class at all)"
    trees = [cell.tree for cell in cells if cell.tree is not None]
    suggested = (value_like_names(trees) or classes)[0]
    return (
        f"{path.name} defines no class {names} (it defines {', '.join(classes)}); "
        f"name the class with {path.name}:{suggested}"
    )


def write_module(source: NotebookSource, folder: Path, stem: str) -> Path:
    """Write ``source`` as ``folder/stem.py`` (UTF-8), creating ``folder`` if needed.

    Args:
        source: What :func:`notebook_source` made of a notebook.
        folder: Where to write; a temporary folder of the caller's.
        stem: The module's name, a Python identifier, so the file imports by name too.

    Returns:
        The path of the file written.

    Raises:
        ValueError: If ``stem`` is not a Python identifier.
    """
    if not stem.isidentifier():
        raise ValueError(f"{stem!r} is not a module name (a Python identifier)")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.py"
    path.write_text(source.source, encoding="utf-8")
    return path
