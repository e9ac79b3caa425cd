"""Reading a student's Python without running it: parsing, and spotting Value-like classes."""

from __future__ import annotations

import ast
import warnings

__all__ = ["parse_python", "value_like_names"]


def parse_python(source: str | bytes) -> ast.Module | None:
    """The syntax tree of ``source``, or None if it does not parse; nothing is run.

    Bytes are decoded as Python does (a BOM or a coding line, else UTF-8).
    Warnings about the code (such as invalid escapes) are not shown.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except (SyntaxError, ValueError):  # ValueError: a null byte, before Python 3.12
        return None


def _is_value_like(node: ast.ClassDef) -> bool:
    """Whether the class has ``__add__`` or ``__mul__``, and a backward method or a ``grad``."""
    methods = {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    assigned = {
        target.id
        for n in node.body
        if isinstance(n, ast.Assign)
        for target in n.targets
        if isinstance(target, ast.Name)
    }
    if not {"__add__", "__mul__"} & (methods | assigned):
        return False
    if any("backward" in name.lower() or "backprop" in name.lower() for name in methods):
        return True
    stored = [
        n.attr if isinstance(n, ast.Attribute) else n.id
        for n in ast.walk(node)
        if isinstance(n, (ast.Attribute, ast.Name)) and isinstance(n.ctx, ast.Store)
    ]
    return "grad" in stored  # self.grad = 0.0, or grad: float = 0.0 in the class body


def value_like_names(trees: list[ast.Module]) -> list[str]:
    """The top-level classes of ``trees`` that look like an autograd scalar, in order, each once.

    Such a class defines (or assigns) ``__add__`` or ``__mul__``, and either a
    method whose name contains "backward" or "backprop" (in any case) or an
    assignment to a ``grad`` attribute or name.
    """
    found = (n for tree in trees for n in tree.body if isinstance(n, ast.ClassDef))
    return list(dict.fromkeys(n.name for n in found if _is_value_like(n)))
