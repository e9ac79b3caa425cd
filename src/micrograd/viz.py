"""Pictures: a Value's computation graph (Graphviz DOT) and a 2-D classifier's decision boundary.

``to_dot`` needs nothing. Rendering the graph needs the ``graphviz`` Python
package and Graphviz's ``dot`` program; plotting labelled points or the
decision boundary needs matplotlib (``pip install 'micrograd-ref[graphviz,plot]'``). Both are
imported only when used, and their absence raises
:class:`MissingDependencyError` naming what to install.
``text_decision_boundary`` draws the boundary in a terminal with no
dependency at all.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from micrograd.engine import Value
from micrograd.train import Model

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import PathCollection

__all__ = [
    "Grid",
    "MissingDependencyError",
    "decision_grid",
    "plot_decision_boundary",
    "plot_points",
    "render_graph",
    "require_plotting",
    "save_graph",
    "text_decision_boundary",
    "to_dot",
]


class MissingDependencyError(RuntimeError):
    """An optional dependency (a Python package or a program) needed for a picture is missing."""


# The computation graph.


def to_dot(root: Value, *, rankdir: str = "LR") -> str:
    """The computation graph of ``root`` as Graphviz DOT text.

    Each Value is a box showing its label (if any), ``data`` and ``grad``;
    each op is a small ellipse (``+``, ``tanh``, ``dot`` …) with an edge from
    every input, in argument order, and one to the Value it made. Nodes are
    numbered in the order they are reached from ``root``, so the text is
    the same for the same graph.

    Args:
        root: The Value whose graph to draw, usually the one ``backward()`` ran on.
        rankdir: Graphviz's layout direction: ``"LR"`` (left to right) or ``"TB"``.
    """
    ids = _number_nodes(root)
    lines = [
        "digraph micrograd {",
        f"  rankdir={rankdir};",
        '  node [fontname="Helvetica", fontsize=10];',
    ]
    for node, i in ids.items():
        fields = [f"data {node.data:.4g}", f"grad {node.grad:.4g}"]
        if node.label:
            fields.insert(0, _escape_record(node.label))
        lines.append(f'  v{i} [shape=record, label="{{ {" | ".join(fields)} }}"];')
        if node.op:
            op_label = node.op.replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'  v{i}_op [shape=ellipse, label="{op_label}"];')
            lines.append(f"  v{i}_op -> v{i};")
            lines.extend(f"  v{ids[child]} -> v{i}_op;" for child in node.children)
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_graph(root: Value, format: str = "svg") -> bytes:
    """The computation graph of ``root`` laid out by Graphviz's ``dot``, as ``format`` (svg, png …).

    Raises:
        MissingDependencyError: If the ``graphviz`` Python package is not
            installed, or Graphviz's ``dot`` program is not on ``PATH``.
    """
    try:
        import graphviz  # type: ignore[import-untyped]  # noqa: PLC0415 - optional; the package has no type hints
    except ImportError as exc:
        raise MissingDependencyError(
            "rendering a graph needs the graphviz Python package: "
            "pip install 'micrograd-ref[graphviz]' (to_dot() works without it)"
        ) from exc
    if shutil.which("dot") is None:
        raise MissingDependencyError(
            "rendering a graph needs Graphviz's dot program on PATH: install Graphviz "
            "(https://graphviz.org/download/, e.g. apt-get install graphviz); "
            "to_dot() works without it"
        )
    data: bytes = graphviz.Source(to_dot(root)).pipe(format=format)
    return data


def save_graph(root: Value, path: str | Path) -> Path:
    """Render the computation graph of ``root`` to ``path``, in the format its suffix names (.svg, .png …).

    Raises:
        MissingDependencyError: As :func:`render_graph`.
        ValueError: If ``path`` has no suffix.
    """  # noqa: E501 - the summary line names the suffix rule
    path = Path(path)
    if not path.suffix:
        raise ValueError(f"cannot tell the format of {str(path)!r}: give it a suffix like .svg")
    path.write_bytes(render_graph(root, path.suffix[1:].lower()))
    return path


def _number_nodes(root: Value) -> dict[Value, int]:
    """Every node reachable from ``root``, numbered in depth-first order (an explicit stack)."""
    ids: dict[Value, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node not in ids:
            ids[node] = len(ids)
            stack.extend(reversed(node.children))
    return ids


def _escape_record(text: str) -> str:
    """``text`` safe inside a DOT record label, where ``{ } | < >`` and quotes are syntax."""
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\n")


# The decision boundary of a 2-D classifier.


class Grid(NamedTuple):
    """A model's scores on a regular grid of the plane; ``scores[row][col]`` is at ``(xs[col], ys[row])``."""  # noqa: E501

    xs: list[float]
    """The grid's x coordinates, increasing."""
    ys: list[float]
    """The grid's y coordinates, increasing."""
    scores: list[list[float]]
    """The model's score at each grid point, row by row."""


def decision_grid(
    model: Model,
    X: Sequence[Sequence[float]],
    *,
    columns: int = 80,
    rows: int = 80,
    margin: float = 0.5,
) -> Grid:
    """``model``'s scores on a ``columns`` by ``rows`` grid covering the points ``X`` with ``margin`` around them.

    Raises:
        ValueError: If ``X`` is empty or ``columns`` or ``rows`` is below 2.
    """  # noqa: E501
    if not X:
        raise ValueError("need at least one point to place the grid; got none")
    if columns < 2 or rows < 2:
        raise ValueError(f"the grid needs at least 2 columns and 2 rows; got {columns}x{rows}")
    xs = _spaced(min(p[0] for p in X) - margin, max(p[0] for p in X) + margin, columns)
    ys = _spaced(min(p[1] for p in X) - margin, max(p[1] for p in X) + margin, rows)
    return Grid(xs, ys, [[model([x, y]).data for x in xs] for y in ys])


def plot_points(
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    *,
    ax: Axes | None = None,
    title: str = "labelled points",
) -> Axes:
    """Draw labelled 2-D points as every picture of micrograd-ref does: +1 blue squares, -1 red circles.

    Needs matplotlib; with no ``ax`` it draws on a new ``matplotlib.figure.Figure``.

    Args:
        X: The points.
        y: Their ±1 labels (a label above 0 counts as +1).
        ax: The matplotlib Axes to draw on; a new figure's by default.
        title: The Axes title.

    Returns:
        The Axes drawn on, with a legend naming the two markers.

    Raises:
        MissingDependencyError: If matplotlib is not installed.
        ValueError: If ``X`` and ``y`` differ in length.
    """  # noqa: E501 - the summary line names the colours
    ax = _axes(ax, X, y)
    _scatter(ax, X, y)
    ax.set(title=title, xlabel="x₁", ylabel="x₂")
    ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_decision_boundary(
    model: Model,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    *,
    ax: Axes | None = None,
    path: str | Path | None = None,
    resolution: int = 80,
    title: str = "decision boundary",
) -> Axes:
    """Draw where ``model`` scores above and below 0, its zero line, and the labelled points.

    Blue shading is where the model predicts +1 (score above 0), red where it
    predicts -1; the black line is the decision boundary (score 0); the points
    are drawn as :func:`plot_points` draws them. The legend, below the plot,
    explains all five. Needs matplotlib. Works without pyplot or a display:
    with no ``ax`` it draws on a new ``matplotlib.figure.Figure``.

    Args:
        model: A model of two inputs returning a score, e.g. ``MLP(2, [16, 16, 1])``.
        X: The points to show (and to place the grid around).
        y: Their ±1 labels.
        ax: The matplotlib Axes to draw on; a new figure's by default.
        path: If given, save the whole figure there (format from the suffix: .png, .svg, .pdf).
        resolution: Grid points per side at which the model is evaluated.
        title: The Axes title.

    Returns:
        The Axes drawn on; ``ax.get_figure()`` is its figure.

    Raises:
        MissingDependencyError: If matplotlib is not installed.
        ValueError: If ``X`` and ``y`` differ in length or ``X`` is empty.
    """
    ax = _axes(ax, X, y)
    from matplotlib.colors import ListedColormap  # noqa: PLC0415 - optional; _axes checked it
    from matplotlib.lines import Line2D  # noqa: PLC0415 - optional dependency
    from matplotlib.patches import Patch  # noqa: PLC0415 - optional dependency

    grid = decision_grid(model, X, columns=resolution, rows=resolution)
    regions = ListedColormap([_NEGATIVE_FILL, _POSITIVE_FILL])
    # Two bands, score <= 0 and score > 0; finite outer levels keep matplotlib's scaling quiet.
    low = min(-1.0, *(min(row) for row in grid.scores))
    high = max(1.0, *(max(row) for row in grid.scores))
    ax.contourf(grid.xs, grid.ys, grid.scores, levels=[low, 0.0, high], cmap=regions)
    ax.contour(grid.xs, grid.ys, grid.scores, levels=[0.0], colors="black", linewidths=1.0)
    points = _scatter(ax, X, y)
    ax.set(title=title, xlabel="x₁", ylabel="x₂")
    ax.legend(
        # Filled column by column: the markers and the line, then each shade beside its marker.
        handles=[
            *points,
            Line2D([], [], color="black", linewidth=1.0, label="decision boundary (score 0)"),
            Patch(facecolor=_POSITIVE_FILL, edgecolor="grey", label="score > 0: predicted +1"),
            Patch(facecolor=_NEGATIVE_FILL, edgecolor="grey", label="score ≤ 0: predicted -1"),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        ncols=2,
        fontsize="small",
        frameon=False,
    )
    if path is not None:
        ax.figure.figure.savefig(path, dpi=120)  # the root figure, also when ax is on a subfigure
    return ax


def require_plotting() -> None:
    """Check that the pictures of :func:`plot_points` and :func:`plot_decision_boundary` can be drawn.

    Raises:
        MissingDependencyError: If matplotlib is not installed, naming the
            ``plot`` extra and the terminal alternative.
    """  # noqa: E501 - the summary line names both functions
    try:
        import matplotlib.colors  # noqa: PLC0415 - optional dependency
        import matplotlib.figure  # noqa: F401, PLC0415 - optional; only probing that it imports
    except ImportError as exc:
        raise MissingDependencyError(
            "plotting needs matplotlib: pip install 'micrograd-ref[plot]' "
            "(text_decision_boundary() draws in the terminal without it)"
        ) from exc


def _axes(ax: Axes | None, X: Sequence[Sequence[float]], y: Sequence[float]) -> Axes:
    """``ax``, or a new figure's Axes; after checking that matplotlib is there and ``X`` fits ``y``."""  # noqa: E501
    require_plotting()
    from matplotlib.figure import Figure  # noqa: PLC0415 - optional dependency

    if len(X) != len(y):
        raise ValueError(f"need one label per point; got {len(X)} points, {len(y)} labels")
    if ax is None:
        ax = Figure(figsize=(6.0, 5.5), layout="constrained").add_subplot()
    return ax


def _scatter(ax: Axes, X: Sequence[Sequence[float]], y: Sequence[float]) -> list[PathCollection]:
    """The points of each label on ``ax``: +1 first, as blue squares; then -1, as red circles."""
    drawn = []
    for label, colour, marker in ((1.0, _POSITIVE_POINT, "s"), (-1.0, _NEGATIVE_POINT, "o")):
        points = [p for p, t in zip(X, y, strict=True) if (t > 0.0) == (label > 0.0)]
        drawn.append(
            ax.scatter(
                [p[0] for p in points],
                [p[1] for p in points],
                c=colour,
                marker=marker,
                s=24,
                edgecolors="black",
                linewidths=0.5,
                label=f"label {label:+.0f}",
            )
        )
    return drawn


def text_decision_boundary(
    model: Model,
    X: Sequence[Sequence[float]],
    y: Sequence[float],
    *,
    width: int = 64,
    height: int = 24,
    color: bool = True,
) -> str:
    """The decision boundary drawn in characters, for a terminal.

    Each character cell is shaded by the sign of the model's score at its
    centre: with ``color``, a blue background where the score is above 0 and
    a red one elsewhere; without, ``.`` above 0 and blank elsewhere. Points
    are drawn on top as ``+`` (label +1) and ``o`` (label -1), so a
    misclassified point is one on the other side's shade. A legend line ends
    the picture.

    Raises:
        ValueError: If ``X`` and ``y`` differ in length, ``X`` is empty, or
            ``width`` or ``height`` is below 2.
    """
    if len(X) != len(y):
        raise ValueError(f"need one label per point; got {len(X)} points, {len(y)} labels")
    grid = decision_grid(model, X, columns=width, rows=height, margin=0.25)
    cells = [[(score > 0.0, " ") for score in row] for row in reversed(grid.scores)]
    x0, dx = grid.xs[0], grid.xs[1] - grid.xs[0]
    y_top, dy = grid.ys[-1], grid.ys[1] - grid.ys[0]
    for (px, py), label in zip(X, y, strict=True):
        col = min(max(round((px - x0) / dx), 0), width - 1)
        row = min(max(round((y_top - py) / dy), 0), height - 1)
        cells[row][col] = (cells[row][col][0], "+" if label > 0.0 else "o")
    lines = []
    for line in cells:
        if color:
            text = "".join(
                f"\x1b[{_POSITIVE_ANSI if positive else _NEGATIVE_ANSI}m{ch}"
                for positive, ch in line
            )
            lines.append(text + "\x1b[0m")
        else:
            lines.append("".join("." if positive and ch == " " else ch for positive, ch in line))
    shade = "blue" if color else "'.'"
    lines.append(f"+ label +1   o label -1   {shade}: score > 0 (predicted +1)")
    return "\n".join(lines)


def _spaced(low: float, high: float, n: int) -> list[float]:
    """``n`` evenly spaced numbers from ``low`` to ``high``, both included."""
    step = (high - low) / (n - 1)
    return [low + i * step for i in range(n - 1)] + [high]


_NEGATIVE_FILL = "#f6c9c4"
_POSITIVE_FILL = "#c4daf6"
_NEGATIVE_POINT = "#d7301f"
_POSITIVE_POINT = "#2166ac"
_NEGATIVE_ANSI = "30;48;5;217"  # black text on light red
_POSITIVE_ANSI = "30;48;5;153"  # black text on light blue
