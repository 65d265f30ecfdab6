"""Sphinx configuration of the Graphwright documentation site (`make docs`; tests/test_docs.py builds it too).

The pages are Markdown (MyST), the tutorials are the notebooks of notebooks/ (docs/notebooks is a link to that
folder) rendered by myst-nb, and the API reference is autodoc of the NumPy-style docstrings (napoleon).

Notebook execution: the notebooks are stored without outputs (tests/test_notebooks.py runs them). `make docs`
executes them once and keeps their outputs in a jupyter-cache folder under docs/_build, so a rebuild is fast;
GW_DOCS_EXECUTE=off (what the test suite uses, which executes the notebooks elsewhere) renders them without
running them. Any other value of GW_DOCS_EXECUTE is passed on to myst-nb (auto, cache, force, inline).
"""

import os
from pathlib import Path

DOCS = Path(__file__).resolve().parent

project = "Graphwright"
author = "the Graphwright authors"
copyright = "2026, the Graphwright authors"  # noqa: A001  (Sphinx's name)
release = version = "0.1.0"

extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "README.md"]
root_doc = "index"
# a fence without a language (printed graphs, tables of output) is plain text
highlight_language = "text"

# MyST: ::: fences, `{#label}` heading anchors for links between pages
myst_enable_extensions = ["colon_fence", "deflist", "substitution"]
myst_heading_anchors = 3


def _rule_counts() -> dict[str, str]:
    """``{{ n_canonicalize }}`` ... in the pages: the number of rules registered to each phase, counted now."""
    from graphwright.rewrite import PHASES, phase_rules

    return {f"n_{phase}": str(len(phase_rules(phase).rules)) for phase in PHASES}


myst_substitutions = _rule_counts()

# myst-nb: see the module docstring
nb_execution_mode = os.environ.get("GW_DOCS_EXECUTE", "cache")
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
# a widget's static form (its SVG) is what a page without a kernel can show
nb_mime_priority_overrides = [
    ("html", "application/vnd.jupyter.widget-view+json", None),
]

# autodoc + napoleon: NumPy docstrings, members in source order, type hints in the signature
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False

html_theme = "furo"
html_title = "Graphwright"
html_static_path: list[str] = []


_ARGPARSE_SECTIONS = ("positional arguments:", "options:", "optional arguments:")


def _magic_help_as_literal(app, what, name, obj, options, lines):
    """IPython's ``@magic_arguments`` appends argparse's help (aligned columns, not reStructuredText) to a magic's
    docstring: show it as a literal block."""
    if not name.startswith("graphwright.kernel_ext.") or not hasattr(obj, "parser"):
        return
    start = next((i for i, line in enumerate(lines) if line.strip() in _ARGPARSE_SECTIONS), None)
    if start is not None:
        lines[start:] = ["::", "", *("    " + line for line in lines[start:])]


def _rule_table(phase: str):
    """A table of the rules registered to ``phase``, in the order they are tried: name and identity."""
    from docutils import nodes

    from graphwright.rewrite import phase_rules

    def row(*cells):
        return nodes.row("", *(nodes.entry("", nodes.paragraph("", "", cell)) for cell in cells))

    rules = phase_rules(phase).rules
    body = [row(nodes.literal(text=rule.name), nodes.Text(rule.identity or "")) for rule in rules]
    group = nodes.tgroup("", nodes.colspec(colwidth=1), nodes.colspec(colwidth=3), cols=2)
    group += nodes.thead("", row(nodes.Text("rule"), nodes.Text("identity")))
    group += nodes.tbody("", *body)
    return nodes.table("", group)


def setup(app):
    from sphinx.util.docutils import SphinxDirective

    class RuleTable(SphinxDirective):
        """``{gw-rules} PHASE``: the rules of one phase, read from the rule registry at build time."""

        required_arguments = 1

        def run(self):
            return [_rule_table(self.arguments[0])]

    app.connect("autodoc-process-docstring", _magic_help_as_literal)
    app.add_directive("gw-rules", RuleTable)
