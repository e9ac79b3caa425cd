"""Sphinx configuration: Markdown pages and the tutorial notebook (MyST-NB), API from docstrings."""

from __future__ import annotations

import micrograd

project = "micrograd-ref"
author = "The micrograd-ref developers"
copyright = "2026, The micrograd-ref developers"
version = release = micrograd.__version__

extensions = [
    "myst_nb",  # Markdown pages and .ipynb notebooks
    "sphinx.ext.autodoc",  # the API reference, from docstrings
    "sphinx.ext.napoleon",  # Google-style docstring sections
    "sphinx.ext.viewcode",  # links from the API reference to the source
    "sphinx-mathjax-offline",  # MathJax 3 copied into the site, so maths typesets offline
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "jupyter_execute"]
myst_enable_extensions = ["colon_fence", "dollarmath"]  # $…$ and $$…$$ are maths
myst_heading_anchors = 3

# The tutorial runs top to bottom on every build, so a rotten cell fails the build.
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 600
# A cell's printed lines show as one block, however often it flushed.
nb_merge_streams = True

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# Source pages for documented objects only: following imports lists "builtins", with no page.
viewcode_follow_imported_members = False

html_theme = "furo"
html_title = f"micrograd-ref {release}"
