"""Students' targets: notebooks become modules, submission folders give up their engine."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

from micrograd.oracle.targets import (
    find_engine,
    find_nn,
    notebook_source,
    package_module,
    value_like_classes,
    write_module,
)
from micrograd.oracle.targets.notebook import KEPT_CELL_MAGICS, cell_trees
from micrograd.oracle.targets.syntax import parse_python

ENGINE = """\
class Value:
    def __init__(self, data):
        self.data = data
        self.grad = 0.0

    def __add__(self, other):
        return Value(self.data + other.data)

    def backward(self):
        self.grad = 1.0
"""

MARKDOWN = {"cell_type": "markdown", "metadata": {}, "source": ["# My micrograd\n", "It works?"]}

TRAINING = "raise RuntimeError('the training loop ran')"


def scalar(name: str) -> str:
    """The engine with its class called ``name``."""
    return ENGINE.replace("Value", name)


def notebook(path: Path, *cells: object) -> Path:
    """Write a notebook (nbformat 4) of ``cells``: a string is a code cell, others go in as is."""

    def as_cell(cell: object) -> object:
        if not isinstance(cell, str):
            return cell
        source = cell.splitlines(keepends=True)  # as Jupyter saves it
        return {"cell_type": "code", "metadata": {}, "outputs": [], "source": source}

    document = {"cells": [as_cell(cell) for cell in cells], "nbformat": 4, "nbformat_minor": 5}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def write(path: Path, text: str | bytes) -> Path:
    """Write ``text`` to ``path``, making its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def lines_of_cell(tmp_path: Path, cell: str) -> list[str]:
    """The lines that ``cell``, a notebook's first code cell, becomes: found through ``where``."""
    source = notebook_source(notebook(tmp_path / "nb.ipynb", cell, ENGINE), {"Value"})
    lines = enumerate(source.source.splitlines(), 1)
    return [line for number, line in lines if (source.where(number) or (0, 0))[0] == 1]


class TestNotebookSource:
    """The code cells up to the engine's last, as one module that runs outside Jupyter."""

    def test_stops_before_training_and_runs(self, tmp_path: Path) -> None:
        """Shell lines, magics and a %%time line are dropped; the module runs; training does not."""
        path = notebook(
            tmp_path / "mygrad.ipynb",
            MARKDOWN,
            "!pip install micrograd\nimport math",
            "%matplotlib inline",
            "%%time\nx = sum(range(10))",
            ENGINE,
            TRAINING,
        )
        source = notebook_source(path, {"Value"})
        assert source.cells_total == 5
        assert source.cells_run == (1, 3, 4)  # cell 2 has nothing left to run
        assert source.skipped_lines == 3
        assert "training" not in source.source
        namespace = runpy.run_path(str(write_module(source, tmp_path / "out", "mygrad")))
        assert namespace["x"] == 45
        assert namespace["Value"](2.0).data == 2.0

    def test_where_points_into_the_class_cell(self, tmp_path: Path) -> None:
        """A line of the module maps back to its code cell and its line there, both from 1."""
        path = notebook(tmp_path / "nb.ipynb", MARKDOWN, "!ls\nimport math", ENGINE)
        source = notebook_source(path, {"Value"})
        lines = source.source.splitlines()
        backward = "    def backward(self):"
        in_cell = ENGINE.splitlines().index(backward) + 1
        assert source.where(lines.index(backward) + 1) == (2, in_cell)
        assert source.where(lines.index("import math") + 1) == (1, 2)

    def test_where_is_none_off_the_notebook(self, tmp_path: Path) -> None:
        """The header, the cell markers and numbers out of range belong to no cell."""
        source = notebook_source(notebook(tmp_path / "nb.ipynb", ENGINE), {"Value"})
        lines = source.source.splitlines()
        assert lines[2] == "# %% code cell 1"
        assert [source.where(n) for n in (0, 1, 2, 3, len(lines) + 1)] == [None] * 5
        assert source.where(4) == (1, 1)

    def test_a_traceback_line_finds_the_students_cell(self, tmp_path: Path) -> None:
        """A cell that does not parse is kept above the engine; its error maps to its cell."""
        path = notebook(tmp_path / "nb.ipynb", "x = 1\ndef broken(:\n    pass", ENGINE)
        source = notebook_source(path, {"Value"})
        assert source.cells_run == (1, 2)
        with pytest.raises(SyntaxError) as caught:
            compile(source.source, "nb.py", "exec")
        assert caught.value.lineno is not None
        assert source.where(caught.value.lineno) == (1, 2)

    def test_display_works_outside_jupyter(self, tmp_path: Path) -> None:
        """A display() call is kept and draws nothing, as outside Jupyter."""
        path = notebook(tmp_path / "nb.ipynb", "display(1, 2, raw=True)", ENGINE)
        source = notebook_source(path, {"Value"})
        assert source.cells_run == (1, 2)
        runpy.run_path(str(write_module(source, tmp_path, "nb")))

    def test_stops_after_the_last_cell_defining_a_need(self, tmp_path: Path) -> None:
        """With several needs, the module ends with the last cell defining any of them."""
        mlp = "class MLP:\n    pass"
        path = notebook(tmp_path / "nb.ipynb", ENGINE, "y = 2", mlp, TRAINING)
        assert notebook_source(path, {"Value", "MLP"}).cells_run == (1, 2, 3)
        assert notebook_source(path, {"Value", "Layer"}).cells_run == (1,)

    def test_a_redefinition_moves_the_stop(self, tmp_path: Path) -> None:
        """A class defined again in a later cell is taken from that cell."""
        path = notebook(tmp_path / "nb.ipynb", ENGINE, "y = 2", ENGINE, TRAINING)
        assert notebook_source(path, {"Value"}).cells_run == (1, 2, 3)

    def test_a_function_is_a_definition(self, tmp_path: Path) -> None:
        """A top-level function named in needs also sets the stop."""
        path = notebook(tmp_path / "nb.ipynb", "async def make():\n    pass", TRAINING)
        assert notebook_source(path, {"make"}).cells_run == (1,)

    def test_only_top_level_definitions_count(self, tmp_path: Path) -> None:
        """A class defined inside an if block is not the notebook's engine."""
        path = notebook(tmp_path / "nb.ipynb", "if True:\n" + "    class Value:\n        pass")
        with pytest.raises(LookupError, match="it defines no class at all"):
            notebook_source(path, {"Value"})

    def test_a_notebook_of_scalar_names_it(self, tmp_path: Path) -> None:
        """A notebook without Value lists its classes and suggests its Value-like one."""
        path = notebook(
            tmp_path / "mygrad.ipynb",
            "class Helper:\n    pass",
            scalar("Scalar"),
            "class MLP:\n    pass",
            scalar("Scalar"),
        )
        message = (
            r"mygrad.ipynb defines no class 'Value' \(it defines Helper, Scalar, MLP\); "
            r"name the class with mygrad.ipynb:Scalar"
        )
        with pytest.raises(LookupError, match=message):
            notebook_source(path, {"Value"})

    def test_without_value_like_classes_the_first_is_suggested(self, tmp_path: Path) -> None:
        """When no class looks like an engine, the message suggests the first class."""
        path = notebook(tmp_path / "nb.ipynb", "class Num:\n    pass", "class Other:\n    pass")
        with pytest.raises(LookupError, match=r"'MLP' or 'Value' .*the class with nb.ipynb:Num"):
            notebook_source(path, {"Value", "MLP"})

    @pytest.mark.parametrize(
        ("content", "reason"),
        [
            (b"{not json", "is not a Jupyter notebook: Expecting"),
            (b'{"cells": "\xff"}', "is not a Jupyter notebook: .*utf-8"),
            (b"[1, 2]", "it has no list of 'cells'"),
            (b'{"worksheets": []}', "it has no list of 'cells'"),
            (b'{"cells": [{"cell_type": "code", "source": 3}]}', "cell 1's source is not text"),
            (b'{"cells": [{"cell_type": "code", "source": ["a", 1]}]}', "code cell 1's source"),
        ],
    )
    def test_a_file_that_is_not_a_notebook(
        self, tmp_path: Path, content: bytes, reason: str
    ) -> None:
        """Bad JSON, other encodings, no cells or a source that is not text: a clear ValueError."""
        path = write(tmp_path / "nb.ipynb", content)
        with pytest.raises(ValueError, match=f"^nb.ipynb.* {reason}"):
            notebook_source(path, {"Value"})

    def test_cells_are_counted_among_code_cells(self, tmp_path: Path) -> None:
        """Markdown, raw and malformed cells are not counted; a source may be one string."""
        raw = {"cell_type": "raw", "metadata": {}, "source": "class Value: pass"}
        as_string = {"cell_type": "code", "source": ENGINE}
        path = notebook(tmp_path / "nb.ipynb", MARKDOWN, raw, "x = 1", 7, as_string)
        source = notebook_source(path, {"Value"})
        assert (source.cells_total, source.cells_run) == (2, (1, 2))

    def test_cell_magics_that_do_not_run_python_drop_their_cell(self, tmp_path: Path) -> None:
        """A %%writefile, %%bash or bare %% cell is left out, its lines counted as skipped."""
        path = notebook(
            tmp_path / "nb.ipynb", "%%writefile a.py\nprint(1)\n", "\n  %%bash\nls", "%%", ENGINE
        )
        source = notebook_source(path, {"Value"})
        assert source.cells_run == (4,)
        assert source.skipped_lines == 5
        assert sorted(KEPT_CELL_MAGICS) == ["capture", "time"]

    def test_cell_trees_skip_cells_that_do_not_parse(self, tmp_path: Path) -> None:
        """Only the cells that parse, IPython lines dropped, have a tree."""
        cells = ["%matplotlib inline\nx = 1", "def (:", "!ls", "y = 2"]
        path = notebook(tmp_path / "nb.ipynb", *cells)
        assert len(cell_trees(path)) == 2

    def test_parse_python_never_fails(self) -> None:
        """Code that does not parse, has a null byte or is not UTF-8 is None; cookies are read."""
        assert parse_python("def (:") is None
        assert parse_python(b"x = 1\x00") is None
        assert parse_python(b"x = '\xff'") is None
        assert parse_python(b"# -*- coding: latin-1 -*-\nx = '\xff'") is not None
        assert parse_python("x = '\\d'") is not None  # an invalid escape warns in silence

    def test_write_module_needs_a_module_name(self, tmp_path: Path) -> None:
        """The stem must be an identifier; the folder is made as needed."""
        source = notebook_source(notebook(tmp_path / "nb.ipynb", ENGINE), {"Value"})
        with pytest.raises(ValueError, match="'my nb' is not a module name"):
            write_module(source, tmp_path, "my nb")
        path = write_module(source, tmp_path / "a" / "b", "nb")
        assert path == tmp_path / "a" / "b" / "nb.py"
        assert path.read_text(encoding="utf-8") == source.source


class TestIPythonLines:
    """Lines only IPython understands become inert, at their place, and nothing else changes."""

    @pytest.mark.parametrize(
        ("cell", "lines"),
        [
            (
                "import math\n!ls\n%matplotlib inline\n?math\nmath.sqrt??\nfs = !ls\nt = %time 1",
                ["import math", "pass", "pass", "pass", "pass", "pass", "pass"],
            ),
            ("for i in range(2):\n    !echo {i}", ["for i in range(2):", "    pass"]),
            ("get_ipython().run_line_magic('pwd', '')\nx = 1", ["pass", "x = 1"]),
            (
                "get_ipython().run_cell_magic(\n    'time', '', 'x = 1'\n)\ny = 2",
                ["pass", "", "", "y = 2"],
            ),
            ("%%time\nx = 1", ["", "x = 1"]),
            ("\n%%capture out\nx = 1", ["", "", "x = 1"]),
            ("x = 1\r\ny = 2\r\n", ["x = 1", "y = 2"]),
            ("# notes only", ["# notes only"]),
            ("x = 1  # isn't it?\n!ls", ["x = 1  # isn't it?", "pass"]),
            ('x = "a \\" b"\n!ls', ['x = "a \\" b"', "pass"]),
            ("s = 'a\\\n%b'\n!ls", ["s = 'a\\", "%b'", "pass"]),
            ("s = 'open\n!ls", ["s = 'open", "pass"]),
            (")\n!ls", [")", "pass"]),
        ],
    )
    def test_ipython_lines_become_pass(self, tmp_path: Path, cell: str, lines: list[str]) -> None:
        """Shell, magic, help and get_ipython() lines become pass (continuations blank)."""
        assert lines_of_cell(tmp_path, cell) == lines

    @pytest.mark.parametrize(
        "cell",
        [
            'def f():\n    """Why?\n%s of items\n!important\n    """\n    return 1',
            "def f():\n    '''Why?\n%s of items\n'''",
            "y = (10\n% 3)",
            "y = 10 \\\n% 3",
            "z = {'a': 1,\n!b: 2}",
        ],
    )
    def test_lines_inside_strings_and_brackets_are_kept(self, tmp_path: Path, cell: str) -> None:
        """A line continuing a string, brackets or a backslash is Python's, whatever its start."""
        assert lines_of_cell(tmp_path, cell) == cell.splitlines()

    @pytest.mark.parametrize("cell", ["", "\n\n", "!pip install micrograd", "%%writefile a.py\nx"])
    def test_a_cell_with_nothing_to_run_is_left_out(self, tmp_path: Path, cell: str) -> None:
        """An empty cell, or one made only of IPython lines, is not among the cells run."""
        assert lines_of_cell(tmp_path, cell) == []
        source = notebook_source(notebook(tmp_path / "nb.ipynb", cell, ENGINE), {"Value"})
        assert source.cells_run == (2,)


class TestValueLikeClasses:
    """A class looks like an autograd scalar by its operators and its backward pass."""

    @pytest.mark.parametrize(
        ("body", "value_like"),
        [
            ("def __add__(self, o): pass\n    def backward(self): pass", True),
            ("def __mul__(self, o): pass\n    def _Backprop(self): pass", True),
            ("def __mul__(self, o): pass\n    def step(self):\n        self.grad = 0", True),
            ("grad: float = 0.0\n    __add__ = lambda self, o: o", True),
            ("def __add__(self, o): pass\n    def step(self):\n        x = self.data", False),
            ("def backward(self): pass\n    def __sub__(self, o): pass", False),
            ("pass", False),
        ],
    )
    def test_operators_and_a_backward_pass(
        self, tmp_path: Path, body: str, value_like: bool
    ) -> None:
        """__add__ or __mul__, with a backward/backprop method or a grad assigned."""
        path = write(tmp_path / "engine.py", f"class Num:\n    {body}\n")
        assert value_like_classes(path) == (["Num"] if value_like else [])

    def test_file_order_each_once(self, tmp_path: Path) -> None:
        """Classes come in file order, a redefinition once; other classes are left out."""
        path = notebook(
            tmp_path / "nb.ipynb",
            scalar("B"),
            "class Helper:\n    pass",
            scalar("A") + "\nx = 1",
            scalar("B"),
        )
        assert value_like_classes(path) == ["B", "A"]

    @pytest.mark.parametrize(
        ("name", "content"),
        [
            ("broken.py", "class Value(:\n"),
            ("latin.py", ENGINE.encode() + b"x = 'caf\xe9'\n"),
            ("notes.txt", ENGINE),
            ("bad.ipynb", "{"),
            ("missing.py", None),
        ],
    )
    def test_unreadable_files_have_no_classes(
        self, tmp_path: Path, name: str, content: str | bytes | None
    ) -> None:
        """A file that does not parse, is not UTF-8, of another kind, or missing has none."""
        path = tmp_path / name if content is None else write(tmp_path / name, content)
        assert value_like_classes(path) == []


class TestFindEngine:
    """engine.py, then Karpathy's micrograd/engine.py, then the one file defining the class."""

    def test_engine_py_first(self, tmp_path: Path) -> None:
        """A top-level engine.py is the engine, whatever else the folder has."""
        write(tmp_path / "engine.py", "x = 1")
        write(tmp_path / "micrograd" / "engine.py", ENGINE)
        assert find_engine(tmp_path) == tmp_path / "engine.py"

    @pytest.mark.parametrize("package", [True, False])
    def test_karpathy_layout(self, tmp_path: Path, package: bool) -> None:
        """micrograd/engine.py is found with or without micrograd/__init__.py."""
        write(tmp_path / "micrograd" / "engine.py", ENGINE)
        write(tmp_path / "micrograd" / "nn.py", "from .engine import Value\n")
        if package:
            write(tmp_path / "micrograd" / "__init__.py", "")
        write(tmp_path / "other.py", ENGINE)
        assert find_engine(tmp_path) == tmp_path / "micrograd" / "engine.py"

    def test_the_one_file_defining_the_class(self, tmp_path: Path) -> None:
        """Searched recursively, in .py files and notebooks cell by cell, by class name."""
        write(tmp_path / "hw" / "mygrad.py", ENGINE)
        write(tmp_path / "hw" / "train.py", "from mygrad import Value\n")
        write(tmp_path / "hw" / "README.md", ENGINE)
        assert find_engine(tmp_path) == tmp_path / "hw" / "mygrad.py"
        notebook(tmp_path / "lab" / "lab.ipynb", "%matplotlib inline\n" + scalar("Scalar"))
        assert find_engine(tmp_path, "Scalar") == tmp_path / "lab" / "lab.ipynb"

    def test_several_candidates_are_listed(self, tmp_path: Path) -> None:
        """Two files defining the class: both are named, relative to the folder."""
        write(tmp_path / "a.py", ENGINE)
        notebook(tmp_path / "b" / "c.ipynb", ENGINE)
        message = r"several files define a class 'Value': a.py, b/c.ipynb; pass the one to grade"
        with pytest.raises(LookupError, match=message):
            find_engine(tmp_path)

    def test_macosx_hidden_caches_and_venvs_are_skipped(self, tmp_path: Path) -> None:
        """__MACOSX, hidden files and folders, __pycache__ and virtual environments are skipped."""
        write(tmp_path / "hw" / "mygrad.py", ENGINE)
        for skipped in ["__MACOSX/hw/mygrad.py", "__MACOSX/hw/._mygrad.py", "hw/.mine.py"]:
            write(tmp_path / skipped, ENGINE)
        for skipped in [".git/x.py", "__pycache__/x.py", ".ipynb_checkpoints/x.py", "env/x.py"]:
            write(tmp_path / skipped, ENGINE)
        write(tmp_path / "env" / "pyvenv.cfg", "home = /usr/bin\n")
        assert find_engine(tmp_path) == tmp_path / "hw" / "mygrad.py"

    def test_no_candidate_names_the_value_like_classes(self, tmp_path: Path) -> None:
        """Without the class, the message lists Value-like classes and a target to pass."""
        write(tmp_path / "sub" / "scalar.py", scalar("Scalar") + "\nclass Helper:\n    pass\n")
        notebook(tmp_path / "nb.ipynb", scalar("Num"))
        message = (
            r"no .py or .ipynb file defines a class 'Value', but these classes look like an "
            r"autograd scalar: nb.ipynb:Num, sub/scalar.py:Scalar; pass one instead, e.g. "
        )
        with pytest.raises(LookupError, match=message) as caught:
            find_engine(tmp_path)
        assert str(caught.value).endswith(f"{tmp_path / 'nb.ipynb'}:Num")

    def test_no_candidate_at_all(self, tmp_path: Path) -> None:
        """Files that do not parse, are not UTF-8 or are not notebooks are not candidates."""
        write(tmp_path / "broken.py", "class Value(:\n")
        write(tmp_path / "latin.py", ENGINE.encode() + b"x = 'caf\xe9'\n")
        write(tmp_path / "bad.ipynb", "{")
        with pytest.raises(LookupError, match="nor any class with __add__ or __mul__"):
            find_engine(tmp_path)

    def test_not_a_folder(self, tmp_path: Path) -> None:
        """A path that is not a folder is said to be so."""
        with pytest.raises(LookupError, match="no such folder"):
            find_engine(tmp_path / "missing")


class TestFindNn:
    """The network's module is found as the engine is: by name, beside the engine, micrograd/."""

    def test_the_name_in_the_folder_first(self, tmp_path: Path) -> None:
        """A top-level nn.py is the network, whatever else the folder has."""
        write(tmp_path / "nn.py", "")
        write(tmp_path / "micrograd" / "nn.py", "")
        assert find_nn(tmp_path) == tmp_path / "nn.py"

    def test_karpathy_layout(self, tmp_path: Path) -> None:
        """micrograd/nn.py is found in Karpathy's layout."""
        write(tmp_path / "micrograd" / "nn.py", "")
        assert find_nn(tmp_path, "nn.py") == tmp_path / "micrograd" / "nn.py"

    def test_beside_the_engine(self, tmp_path: Path) -> None:
        """With the engine at src/engine.py, src/nn.py is its network."""
        engine = write(tmp_path / "src" / "engine.py", ENGINE)
        write(tmp_path / "src" / "nn.py", "")
        assert find_nn(tmp_path, "nn.py", engine) == tmp_path / "src" / "nn.py"

    def test_a_glob_matches_one_file(self, tmp_path: Path) -> None:
        """A glob is looked for in the folder only, and must match one file."""
        write(tmp_path / "hw" / "my_nn.py", "")
        assert find_nn(tmp_path, "hw/*nn.py") == tmp_path / "hw" / "my_nn.py"
        write(tmp_path / "hw" / "old_nn.py", "")
        with pytest.raises(
            LookupError, match=r"several files match hw/\*nn.py: hw/my_nn.py, hw/old"
        ):
            find_nn(tmp_path, "hw/*nn.py")
        with pytest.raises(LookupError, match=r"^no net\*.py found in the submission \(looked for"):
            find_nn(tmp_path, "net*.py")

    def test_none_names_where_it_looked(self, tmp_path: Path) -> None:
        """No network: the message lists each place looked at once, from the submission."""
        engine = write(tmp_path / "engine.py", ENGINE)
        with pytest.raises(LookupError) as caught:
            find_nn(tmp_path, "nn.py", engine)
        assert str(caught.value) == (
            "no nn.py found in the submission (looked for nn.py, micrograd/nn.py)"
        )


class TestPackageModule:
    """A file with relative imports is imported as a member of the packages it needs."""

    def test_no_relative_imports(self, tmp_path: Path) -> None:
        """A file without relative imports, or not a .py file, imports as a plain file."""
        assert package_module(write(tmp_path / "pkg" / "engine.py", "import math\n")) is None
        assert package_module(notebook(tmp_path / "pkg" / "nb.ipynb", "from . import x")) is None

    @pytest.mark.parametrize("package", [True, False])
    def test_karpathy_layout(self, tmp_path: Path, package: bool) -> None:
        """micrograd/nn.py with from .engine import Value is micrograd.nn, __init__.py or not."""
        nn = write(tmp_path / "micrograd" / "nn.py", "from .engine import Value\n")
        write(tmp_path / "micrograd" / "engine.py", ENGINE)
        if package:
            write(tmp_path / "micrograd" / "__init__.py", "")
        assert package_module(nn) == (tmp_path.resolve(), "micrograd.nn")

    def test_regular_packages_above_are_taken(self, tmp_path: Path) -> None:
        """Folders with __init__.py above the needed ones are packages too, as import sees them."""
        nn = write(tmp_path / "sub" / "micrograd" / "nn.py", "from .engine import Value\n")
        write(tmp_path / "sub" / "__init__.py", "")
        assert package_module(nn) == (tmp_path.resolve(), "sub.micrograd.nn")

    def test_two_dots_need_two_folders(self, tmp_path: Path) -> None:
        """A from ..engine in a/b/nn.py makes a and b packages, without any __init__.py."""
        nn = write(tmp_path / "a" / "b" / "nn.py", "def f():\n    from ..engine import Value\n")
        assert package_module(nn) == (tmp_path.resolve(), "a.b.nn")

    def test_a_members_imports_count(self, tmp_path: Path) -> None:
        """A sibling's deeper relative import makes the namespace package deeper."""
        nn = write(tmp_path / "pkg" / "sub" / "nn.py", "from .engine import Value\n")
        write(tmp_path / "pkg" / "sub" / "engine.py", "from ..util import helper\n")
        write(tmp_path / "pkg" / "sub" / "broken.py", "from . import (\n")
        assert package_module(nn) == (tmp_path.resolve(), "pkg.sub.nn")

    def test_an_init_file_is_its_package(self, tmp_path: Path) -> None:
        """pkg/__init__.py with from .engine import Value is the module pkg."""
        init = write(tmp_path / "pkg" / "__init__.py", "from .engine import Value\n")
        assert package_module(init) == (tmp_path.resolve(), "pkg")

    def test_a_folder_that_cannot_be_a_package_ends_the_walk(self, tmp_path: Path) -> None:
        """A folder with __init__.py but a name that is not an identifier is the root."""
        nn = write(tmp_path / "hw-1" / "pkg" / "nn.py", "from .engine import Value\n")
        write(tmp_path / "hw-1" / "__init__.py", "")
        assert package_module(nn) == ((tmp_path / "hw-1").resolve(), "pkg.nn")

    @pytest.mark.parametrize(
        ("relative", "text", "reason"),
        [
            ("my-grad/nn.py", "from .engine import Value\n", "'my-grad' cannot be one"),
            ("pkg/nn-2.py", "from .engine import Value\n", "'nn-2' cannot be a module name"),
        ],
    )
    def test_impossible_packages(
        self, tmp_path: Path, relative: str, text: str, reason: str
    ) -> None:
        """A needed package or module whose name is not an identifier is a ValueError."""
        with pytest.raises(ValueError, match=reason):
            package_module(write(tmp_path / relative, text))
