from __future__ import annotations

import re
import shutil
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from micrograd import Value
from micrograd.data import make_moons
from micrograd.nn import MLP
from micrograd.viz import (
    MissingDependencyError,
    decision_grid,
    plot_decision_boundary,
    plot_points,
    render_graph,
    require_plotting,
    save_graph,
    text_decision_boundary,
    to_dot,
)

if TYPE_CHECKING:
    from matplotlib.collections import Collection


class VerticalSplit:
    """A model scoring a point by its x coordinate minus 0.5: +1 right of x = 0.5, -1 left."""

    def __call__(self, x: Sequence[float], /) -> Value:
        """The score x[0] - 0.5."""
        return Value(x[0] - 0.5)

    def parameters(self) -> list[Value]:
        """No parameters."""
        return []


def small_graph() -> Value:
    """L = (a*b + c).tanh() with labels, after backward()."""
    a, b, c = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c")
    e = a * b
    e.label = "e"
    out = (e + c).tanh()
    out.label = "L"
    out.backward()
    return out


class TestToDot:
    """DOT text shows every Value with label, data and grad, and every op with its edges."""

    def test_every_value_and_op_appears_with_its_numbers(self) -> None:
        """Each Value is a record with label, data and grad; each op an ellipse."""
        dot = to_dot(small_graph())
        assert dot.startswith("digraph micrograd {")
        assert dot.rstrip().endswith("}")
        records = re.findall(r'shape=record, label="\{ (.*?) \}"', dot)
        assert len(records) == 6  # a, b, c, e, e + c, L
        assert "a | data 2 | grad -0.004023" in records  # 4 significant digits
        assert "L | data 0.9993 | grad 1" in records
        assert "data 4 | grad 0.001341" in records  # an unlabelled node: no label field
        ops = re.findall(r'shape=ellipse, label="(.*?)"', dot)
        assert sorted(ops) == ["*", "+", "tanh"]

    def test_edges_run_from_inputs_to_ops_to_outputs(self) -> None:
        """There is one edge per (child, op) pair and one per op into the Value it made."""
        a = Value(1.0)
        b = a + a  # a reused node: two edges from a
        dot = to_dot(b)
        assert dot.count("v1 -> v0_op;") == 2
        assert dot.count("v0_op -> v0;") == 1
        assert dot.count("->") == 3

    def test_same_graph_same_text(self) -> None:
        """Numbering follows the graph, not object ids, so equal graphs give equal text."""
        assert to_dot(small_graph()) == to_dot(small_graph())

    def test_labels_with_dot_syntax_are_escaped(self) -> None:
        """Record syntax characters and quotes in a label are backslash-escaped."""
        v = Value(1.0, 'w{1}|<in> "x"\\\nnext')
        dot = to_dot(v)
        assert r"w\{1\}\|\<in\> \"x\"\\\nnext" in dot

    def test_leaf_has_no_op_node(self) -> None:
        """A lone leaf draws one record and no edges."""
        dot = to_dot(Value(3.0), rankdir="TB")
        assert "rankdir=TB;" in dot
        assert "->" not in dot
        assert "ellipse" not in dot

    def test_power_op_with_quote_free_label(self) -> None:
        """An op display string like **2 is used as the op node's label."""
        assert 'label="**2"' in to_dot(Value(3.0) ** 2)

    def test_real_dot_parses_it(self) -> None:
        """Graphviz's dot accepts the text (skipped when dot is not installed)."""
        if shutil.which("dot") is None:
            pytest.skip("Graphviz's dot program is not installed")
        graphviz = pytest.importorskip("graphviz")
        svg = graphviz.Source(to_dot(small_graph())).pipe(format="svg")
        assert b"<svg" in svg


class TestRenderGraph:
    """Rendering needs the graphviz package and the dot program, and says which is missing."""

    def test_missing_package_is_named(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without the graphviz package the error names it and the extra to install."""
        monkeypatch.setitem(sys.modules, "graphviz", None)
        with pytest.raises(MissingDependencyError, match=r"graphviz Python package.*\[graphviz\]"):
            render_graph(Value(1.0))

    def test_missing_dot_program_is_named(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """With the package but no dot on PATH the error names the dot program."""
        monkeypatch.setitem(sys.modules, "graphviz", _fake_graphviz([]))
        monkeypatch.setattr(shutil, "which", lambda _name: None)
        with pytest.raises(MissingDependencyError, match="dot program on PATH"):
            render_graph(Value(1.0))

    def test_hands_dot_text_and_format_to_graphviz(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """render_graph pipes to_dot(root) in the asked format; save_graph uses the suffix."""
        calls: list[tuple[str, str]] = []
        monkeypatch.setitem(sys.modules, "graphviz", _fake_graphviz(calls))
        monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
        root = small_graph()
        assert render_graph(root, "png") == b"rendered png"
        path = save_graph(root, tmp_path / "graph.SVG")
        assert path.read_bytes() == b"rendered svg"
        assert calls == [(to_dot(root), "png"), (to_dot(root), "svg")]

    def test_save_graph_needs_a_suffix(self, tmp_path: Path) -> None:
        """A path without a suffix raises ValueError before anything is rendered."""
        with pytest.raises(ValueError, match="give it a suffix"):
            save_graph(Value(1.0), tmp_path / "graph")

    @pytest.mark.parametrize("fmt", ["svg", "png"])
    def test_renders_for_real(self, fmt: str, tmp_path: Path) -> None:
        """With graphviz and dot installed, save_graph writes a real SVG or PNG."""
        pytest.importorskip("graphviz")
        if shutil.which("dot") is None:
            pytest.skip("Graphviz's dot program is not installed")
        data = save_graph(small_graph(), tmp_path / f"g.{fmt}").read_bytes()
        assert data.startswith(b"\x89PNG") if fmt == "png" else b"<svg" in data


class TestDecisionGrid:
    """The grid covers the points plus a margin and holds the model's scores."""

    def test_grid_bounds_and_scores(self) -> None:
        """Corners are the data's extremes ± margin and each score is the model's at that point."""
        X = [(0.0, 0.0), (2.0, 1.0)]
        grid = decision_grid(VerticalSplit(), X, columns=5, rows=3, margin=0.5)
        assert grid.xs == [-0.5, 0.25, 1.0, 1.75, 2.5]
        assert grid.ys == [-0.5, 0.5, 1.5]
        assert grid.scores == [[x - 0.5 for x in grid.xs]] * 3

    def test_bad_arguments_raise(self) -> None:
        """No points, or fewer than 2 columns or rows, raise ValueError."""
        with pytest.raises(ValueError, match="at least one point"):
            decision_grid(VerticalSplit(), [])
        with pytest.raises(ValueError, match="at least 2 columns and 2 rows; got 1x5"):
            decision_grid(VerticalSplit(), [(0.0, 0.0)], columns=1, rows=5)


class TestTextDecisionBoundary:
    """The terminal picture shades each cell by the score's sign and marks the points."""

    def test_plain_text_shades_positive_side_and_marks_points(self) -> None:
        """Without colour, cells right of the boundary are '.', points are '+' and 'o'."""
        X, y = [(0.0, 0.0), (1.0, 1.0)], [-1.0, 1.0]
        text = text_decision_boundary(VerticalSplit(), X, y, width=11, height=5, color=False)
        lines = text.splitlines()
        assert len(lines) == 6
        assert lines[-1].startswith("+ label +1   o label -1")
        grid = lines[:-1]
        assert all(len(line) == 11 for line in grid)
        # x runs from -0.25 to 1.25 in steps of 0.15, so x > 0.5 from column 6 on;
        # y runs from 1.25 down to -0.25 in steps of 0.375.
        assert grid == [
            "      .....",
            "      ..+..",
            "      .....",
            "  o   .....",
            "      .....",
        ]

    def test_colour_uses_ansi_backgrounds_per_side(self) -> None:
        """With colour, each cell carries the background of its side and lines reset at the end."""
        text = text_decision_boundary(
            VerticalSplit(), [(0.0, 0.0), (1.0, 1.0)], [-1.0, 1.0], width=11, height=5
        )
        line = text.splitlines()[2]
        assert line.count("\x1b[30;48;5;217m") == 6
        assert line.count("\x1b[30;48;5;153m") == 5
        assert line.endswith("\x1b[0m")

    def test_mismatched_points_and_labels_raise(self) -> None:
        """One label per point is required."""
        with pytest.raises(ValueError, match="one label per point"):
            text_decision_boundary(VerticalSplit(), [(0.0, 0.0)], [])


class TestPlotDecisionBoundary:
    """The matplotlib picture is drawn and saved, or a clear error says matplotlib is missing."""

    def test_writes_a_png_of_a_trained_model(self, tmp_path: Path) -> None:
        """With a path, a PNG is written; the Axes has the title and a legend for both classes."""
        pytest.importorskip("matplotlib")
        X, y = make_moons(20, 0.1, seed=0)
        path = tmp_path / "boundary.png"
        ax = plot_decision_boundary(MLP(2, [4, 1]), X, y, path=path, resolution=10, title="moons")
        assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert ax.get_title() == "moons"
        legend = ax.get_legend()
        assert legend is not None
        assert [t.get_text() for t in legend.get_texts()] == [
            "label +1",
            "label -1",
            "decision boundary (score 0)",
            "score > 0: predicted +1",
            "score ≤ 0: predicted -1",
        ]

    def test_legend_shades_are_the_regions_colours(self) -> None:
        """The legend's two shades are the fills of the +1 and -1 regions, the line is black."""
        colors = pytest.importorskip("matplotlib.colors")
        ax = plot_decision_boundary(
            VerticalSplit(), [(0.0, 0.0), (1.0, 1.0)], [-1.0, 1.0], resolution=5
        )
        legend = ax.get_legend()
        assert legend is not None
        line, positive, negative = legend.legend_handles[2:]
        patches = pytest.importorskip("matplotlib.patches")
        lines = pytest.importorskip("matplotlib.lines")
        assert isinstance(positive, patches.Patch)
        assert isinstance(negative, patches.Patch)
        assert isinstance(line, lines.Line2D)
        regions = ax.collections[0].get_cmap()  # contourf: score <= 0, then score > 0
        assert colors.to_hex(positive.get_facecolor()) == colors.to_hex(regions(1.0))
        assert colors.to_hex(negative.get_facecolor()) == colors.to_hex(regions(0.0))
        assert colors.to_hex(line.get_color()) == "#000000"

    def test_draws_on_a_given_axes_of_a_subfigure(self, tmp_path: Path) -> None:
        """Given an Axes (here on a subfigure), it draws there and saves the whole figure."""
        figure = pytest.importorskip("matplotlib.figure")
        fig = figure.Figure()
        left, _right = fig.subfigures(1, 2)
        ax = left.add_subplot()
        out = plot_decision_boundary(
            VerticalSplit(),
            [(0.0, 0.0), (1.0, 1.0)],
            [-1.0, 1.0],
            ax=ax,
            path=tmp_path / "b.svg",
            resolution=5,
        )
        assert out is ax
        assert b"<svg" in (tmp_path / "b.svg").read_bytes()

    def test_without_a_path_nothing_is_saved(self, tmp_path: Path) -> None:
        """Without a path it only draws: the regions, the zero line and the two classes."""
        pytest.importorskip("matplotlib")
        ax = plot_decision_boundary(
            VerticalSplit(), [(0.0, 0.0), (1.0, 1.0)], [-1.0, 1.0], resolution=5
        )
        assert len(ax.collections) == 4  # contourf, contour, two scatters
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize("module", ["matplotlib.colors", "matplotlib.figure"])
    def test_missing_matplotlib_is_named(
        self, module: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without matplotlib the error names it, the plot extra, and the terminal alternative."""
        monkeypatch.setitem(sys.modules, module, None)
        message = r"matplotlib.*\[plot\].*text_decision"
        with pytest.raises(MissingDependencyError, match=message):
            plot_decision_boundary(VerticalSplit(), [(0.0, 0.0)], [1.0])
        with pytest.raises(MissingDependencyError, match=message):
            plot_points([(0.0, 0.0)], [1.0])
        with pytest.raises(MissingDependencyError, match=message):
            require_plotting()

    def test_mismatched_points_and_labels_raise(self) -> None:
        """One label per point is required."""
        pytest.importorskip("matplotlib")
        with pytest.raises(ValueError, match="one label per point"):
            plot_decision_boundary(VerticalSplit(), [(0.0, 0.0)], [1.0, -1.0])


class TestPlotPoints:
    """Labelled points look the same in every picture: +1 blue squares, -1 red circles."""

    def test_points_match_the_decision_boundarys(self) -> None:
        """plot_points and plot_decision_boundary draw each label in the same colour and marker."""
        pytest.importorskip("matplotlib")
        X, y = [(0.0, 0.0), (1.0, 1.0), (0.2, 0.9)], [-1.0, 1.0, 1.0]
        alone = plot_points(X, y, title="moons")
        boundary = plot_decision_boundary(VerticalSplit(), X, y, resolution=5)
        assert alone.get_title() == "moons"
        assert [_style(c) for c in alone.collections] == [
            _style(c) for c in boundary.collections[2:]
        ]
        assert [_style(c)[0] for c in alone.collections] == ["#2166ac", "#d7301f"]
        np = pytest.importorskip("numpy")
        positive, negative = alone.collections
        assert np.asarray(positive.get_offsets()).tolist() == [[1.0, 1.0], [0.2, 0.9]]
        assert np.asarray(negative.get_offsets()).tolist() == [[0.0, 0.0]]
        legend = alone.get_legend()
        assert legend is not None
        assert [t.get_text() for t in legend.get_texts()] == ["label +1", "label -1"]

    def test_draws_on_a_given_axes(self) -> None:
        """Given an Axes, it draws there and returns it."""
        figure = pytest.importorskip("matplotlib.figure")
        ax = figure.Figure().add_subplot()
        assert plot_points([(0.0, 0.0)], [1.0], ax=ax) is ax

    def test_mismatched_points_and_labels_raise(self) -> None:
        """One label per point is required."""
        pytest.importorskip("matplotlib")
        with pytest.raises(ValueError, match="one label per point"):
            plot_points([(0.0, 0.0)], [1.0, -1.0])


def _style(points: Collection) -> tuple[str, int]:
    """A scatter's face colour (as hex) and the number of vertices of its marker."""
    import numpy as np  # noqa: PLC0415 - matplotlib's own dependency; callers skip without it
    from matplotlib.colors import to_hex  # noqa: PLC0415 - the callers skip without matplotlib

    face = np.asarray(points.get_facecolor())[0]
    return to_hex(face), len(np.asarray(points.get_paths()[0].vertices))


def _fake_graphviz(calls: list[tuple[str, str]]) -> types.ModuleType:
    """A stand-in graphviz module: Source.pipe records its input, returns b'rendered <fmt>'."""

    class Source:
        def __init__(self, source: str) -> None:
            self.source = source

        def pipe(self, format: str) -> bytes:
            calls.append((self.source, format))
            return f"rendered {format}".encode()

    module = types.ModuleType("graphviz")
    module.Source = Source  # type: ignore[attr-defined]  # building a module by hand
    return module
