"""The documentation site (docs/) builds with Sphinx with warnings as errors, renders every notebook and
documents the API; README stays a short front page whose links lead somewhere."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REFERENCE_PAGES = ["graph", "tensor", "rewrite", "rules", "transforms", "backends", "viz", "workbench", "kernel_ext"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build once: `sphinx-build -W --keep-going`, the notebooks rendered without running them again (as
    tests/test_notebooks.py runs them)."""
    try:
        import myst_nb  # noqa: F401
        import sphinx  # noqa: F401
    except ImportError as error:  # not a skip: the docs build is part of the suite
        pytest.fail(f"the documentation tools are missing ({error}); install the dev extra: pip install -e '.[dev]'")
    out = tmp_path_factory.mktemp("docs") / "html"
    env = {**os.environ, "GW_DOCS_EXECUTE": "off"}
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
               "-d", str(out.parent / "doctrees"), str(ROOT / "docs"), str(out)]
    build = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, f"sphinx-build failed:\n{build.stdout}\n{build.stderr}"
    return out


def test_the_site_builds_without_warnings(site):
    assert (site / "index.html").exists()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_is_a_page(site, notebook):
    page = (site / "notebooks" / notebook.name).with_suffix(".html")
    assert page.exists(), f"{notebook.name} is not rendered: add it to a toctree in docs/index.md"
    code_cells = sum(1 for cell in json.loads(notebook.read_text())["cells"] if cell["cell_type"] == "code")
    assert page.read_text().count('class="cell_input') == code_cells, "the notebook's code cells are missing"


@pytest.mark.parametrize("package", [p for p in REFERENCE_PAGES if p != "rules"])
def test_every_package_has_a_reference_page_with_its_api(site, package):
    html = (site / "reference" / f"{package}.html").read_text()
    assert html.count('class="sig sig-object py"') >= 1, f"reference/{package} documents no object"


def test_the_rules_page_lists_every_registered_rule(site):
    from graphwright.rewrite import PHASES, phase_rules

    html = (site / "reference" / "rules.html").read_text()
    names = [rule.name for phase in PHASES for rule in phase_rules(phase).rules]
    missing = [name for name in names if f'<span class="pre">{name}</span>' not in html]
    assert names and not missing, f"rules missing from reference/rules: {missing[:10]}"


def test_the_reference_documents_the_main_entry_points(site):
    documented = "".join(p.read_text() for p in (site / "reference").glob("*.html"))
    for name in ("graphwright.graph.Graph", "graphwright.backends.compile.function", "graphwright.transforms.grad",
                 "graphwright.rewrite.rewrite", "graphwright.viz.to_svg", "graphwright.workbench.Session"):
        assert f'id="{name}"' in documented, f"{name} is not in the API reference"


def test_readme_is_a_short_front_page():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    assert text.index("make lab") < 300 and text.index("make test") < 300, "the two commands come first"
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert not [h for h in headings if re.search(r"\bissue\b", h, re.I)], "section titles name issue numbers"


def test_readme_links_lead_to_files():
    text = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    missing = [t for t in targets if "://" not in t and not (ROOT / t).exists()]
    assert targets and not missing, f"README links to missing files: {missing}"
