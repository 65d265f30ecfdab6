# Everything a fresh machine needs is installed by these targets (Python 3.11+ with venv is assumed).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: lab test docs bench lint setup-dev setup-all setup-docs system-deps clean

# Debian packages: graphviz (`dot` draws the graphs) and chromium (the browser tests drive it with Playwright;
# never `playwright install`, which downloads a browser). Installed with apt-get only when missing: as root, or
# through sudo; otherwise the target fails saying what to install. `--no-install-recommends`: with recommended
# packages apt pulls in over a hundred more (systemd, avahi, cups helpers, about 500 MB) that neither needs. The
# font is named explicitly: graphviz's SVG labels and chromium's pages need one, and without recommends only a
# chain of dependencies (fontconfig-config) would bring it.
SYSTEM_PACKAGES := graphviz:dot chromium:chromium
SYSTEM_FONTS := fonts-dejavu-core
system-deps:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
	  command -v "$${pair#*:}" >/dev/null 2>&1 || missing="$$missing $${pair%%:*}"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	else echo "system-deps: missing Debian packages:$$missing; not root and no sudo: install them with" \
	  "'apt-get install --no-install-recommends$$missing $(SYSTEM_FONTS)' as root, then run make again" >&2; exit 1; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "system-deps: missing packages:$$missing and no apt-get: install them with your package manager" >&2; \
	  exit 1; fi; \
	echo "system-deps: installing$$missing with apt-get"; \
	$$sudo apt-get update -q && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends$$missing $(SYSTEM_FONTS)

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# An editable install of this project with the given extras. setuptools notes every editable install of a
# package-dir layout ("Editable installation ... be careful with folders in your working directory"): that
# one informational note is filtered out, so a clean install prints nothing.
EDITABLE_INSTALL := PYTHONWARNINGS="ignore:Editable installation" $(PIP) install -q -e

# Test dependencies: the engine, pytest, hypothesis, PyTensor (the reference we compare with), nbclient, and the
# documentation tools (the suite builds the docs too).
$(VENV)/.dev-installed: pyproject.toml | $(VENV)/bin/python
	$(EDITABLE_INSTALL) ".[dev]"
	touch $@

# Everything: all backends (PyTorch 2.13.0 CPU, JAX, Numba), JupyterLab and the documentation tools.
$(VENV)/.all-installed: pyproject.toml | $(VENV)/bin/python
	$(EDITABLE_INSTALL) ".[all]"
	touch $@

# The documentation site: Sphinx, myst-nb, the Furo theme, and the notebook stack (autodoc imports the workbench).
$(VENV)/.docs-installed: pyproject.toml | $(VENV)/bin/python
	$(EDITABLE_INSTALL) ".[docs]"
	touch $@

setup-dev: $(VENV)/.dev-installed
setup-all: $(VENV)/.all-installed
setup-docs: $(VENV)/.docs-installed

## make lab: install everything and open JupyterLab on the tour notebook
# (JupyterLab refuses to run as root without --allow-root, so it is added for root only; it needs no chromium)
lab: SYSTEM_PACKAGES := graphviz:dot
lab: system-deps setup-all
	$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root,) notebooks/tour.ipynb

## make test: install the test dependencies and run the whole suite: unit tests, doctests, notebooks and the
## documentation build (tests/test_docs.py) on two workers, then the browser tests (JupyterLab driven in headless
## chromium) in a second, serial run, so they do not compete for the CPU with the compile-heavy tests and one
## JupyterLab server serves them all. Both runs go even when the first fails; `--browser=require` makes a missing
## chromium or Playwright a failure instead of a skip. Screenshots of failed browser tests and the server log:
## test-artifacts/browser/.
test: system-deps setup-dev
	status=0; \
	$(PY) -m pytest -n 2 -q --ignore=tests/browser || status=$$?; \
	$(PY) -m pytest -q tests/browser --browser=require || status=$$?; \
	exit $$status

## make docs: build the documentation site (docs/) into docs/_build/html with warnings as errors. The notebooks
## are executed once (graphviz draws their graphs) and their outputs cached in docs/_build/.jupyter_cache;
## GW_DOCS_EXECUTE=off renders them without running them (the test suite does that: it runs them elsewhere).
docs: SYSTEM_PACKAGES := graphviz:dot
docs: system-deps setup-docs
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html

## make bench: run the benchmarks side by side with NumPy and PyTensor
bench: setup-dev
	$(PY) tests/benchmarks/bench_graph.py

lint: setup-dev
	$(VENV)/bin/ruff check core viz workbench kernel_ext tests

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis test-artifacts docs/_build
