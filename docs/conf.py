"""Sphinx configuration of the lacstats documentation (built offline by ``nox -s docs``).

Nothing is fetched at build time: no intersphinx, no MathJax from a CDN, no remote images;
the theme's assets ship with the theme. The tutorials are executed on every build
(MyST-NB), so their outputs are real runs of the code beside them.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
# the tutorials run `reproduce`, whose analyses cache in the user's cache folder: a docs
# build keeps its own beside its output, so building leaves nothing outside the checkout
os.environ.setdefault("LACSTATS_CACHE_DIR", str(HERE / "_build" / "lacstats-cache"))

import api_comments

import lacstats

project = "lacstats"
author = "The lacstats developers"
copyright = "the lacstats developers; public data Crown copyright (OGL v3.0)"
version = release = lacstats.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx_copybutton",
    "myst_nb",
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "jupyter_execute"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}
root_doc = "index"
templates_path = ["_templates"]

# -- API reference -------------------------------------------------------------------------
autosummary_generate = False  # the API pages list their names by hand; a test checks them
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_class_signature = "mixed"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_custom_sections = [("Returns", "params_style")]
# no intersphinx: the build never touches the network, so outside names stay plain text
nitpicky = False

# -- Notebooks (MyST-NB) ---------------------------------------------------------------------
nb_execution_mode = "force"  # every build runs every tutorial; nothing executed is committed
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_allow_errors = False
nb_merge_streams = True
nb_render_markdown_format = "myst"  # tables in generated markdown (the explanation pages)
nb_ipywidgets_js = {}  # no widget JavaScript from a CDN
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3

# -- HTML -------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"lacstats {version}"
html_static_path = ["_static"]
html_css_files = ["lacstats.css"]
html_last_updated_fmt = None
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 4,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": [],
    "secondary_sidebar_items": ["page-toc"],
}
# the tutorials and explanations are single pages: no empty navigation column beside them
html_sidebars = {"index": [], "tutorials/*": [], "explanation/*": []}
html_show_sourcelink = False
html_copy_source = False


def _no_borrowed_docstrings(app, what, name, obj, options, lines):
    """A constant shows its ``#:`` comment, wherever it is defined (a package re-exporting a
    submodule's constant included: api_comments), never its type's docstring (``dict()``
    ...). tests/test_docs.py checks that every summary row has a description."""
    if what not in ("data", "attribute"):
        return
    borrowed = type(obj).__doc__ or ""
    if lines and lines[0].strip() and borrowed.strip().startswith(lines[0].strip()):
        lines[:] = []
    if not any(line.strip() for line in lines) and what == "data":
        module, _, attr = name.rpartition(".")
        try:
            text = api_comments.comment(module, attr)
        except (ImportError, AttributeError):
            text = None
        if text:
            lines[:] = [text, ""]


def _skip_borrowed_members(app, what, name, obj, skip, options):
    """scikit-learn's metadata-routing setters (``set_fit_request``...) are not lacstats'
    API and their docstrings point into scikit-learn's own documentation."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


#: What an executed cell's output may not show: the build fails on it (a shell command that
#: failed, a module missing from the docs' environment, a traceback, a lacstats error). A
#: cell that shows an error on purpose is tagged ``expected-error``.
ERROR_OUTPUT = re.compile(
    r"Traceback \(most recent call last\)|No module named|command not found|"
    r"^lacstats: (?:internal )?error|^\S*Error: |CalledProcessError|exit status [1-9]",
    re.MULTILINE,
)


def _no_error_in_outputs(app, doctree):
    """Fail the build (a warning, and the build runs with -W) when an executed cell's
    output holds an error: what a reader sees must be what the code does when it works."""
    from docutils import nodes
    from sphinx.util import logging

    logger = logging.getLogger("lacstats.docs")
    for cell in doctree.findall(nodes.container):
        if cell.get("nb_element") != "cell_code" or "tag_expected-error" in cell["classes"]:
            continue
        for block in cell.findall(nodes.literal_block):
            if "output" not in block["classes"]:
                continue
            if found := ERROR_OUTPUT.search(block.astext()):
                logger.warning(
                    "executed output shows an error (%r): %s",
                    found.group(0),
                    block.astext()[:300],
                    location=block,
                )


def setup(app):
    app.connect("autodoc-process-docstring", _no_borrowed_docstrings)
    app.connect("doctree-read", _no_error_in_outputs)
    app.connect("autodoc-skip-member", _skip_borrowed_members)
