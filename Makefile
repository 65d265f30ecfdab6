# Everything a fresh machine needs is installed by these targets (Python 3.11+ with venv is assumed).
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: lab test bench lint setup-dev setup-all clean

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Test dependencies: the engine, pytest, hypothesis, PyTensor (the reference we compare with), nbclient.
$(VENV)/.dev-installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e ".[dev]"
	touch $@

# Everything: all backends (PyTorch 2.13.0 CPU, JAX, Numba) and JupyterLab.
$(VENV)/.all-installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e ".[all]"
	touch $@

setup-dev: $(VENV)/.dev-installed
setup-all: $(VENV)/.all-installed

## make lab: install everything and open JupyterLab on the tour notebook
# (JupyterLab refuses to run as root without --allow-root, so it is added for root only)
lab: setup-all
	$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root,) notebooks/tour.ipynb

## make test: install the test dependencies and run the whole suite (unit tests, doctests, notebooks)
test: setup-dev
	$(PY) -m pytest -n 2 -q

## make bench: run the benchmarks side by side with NumPy and PyTensor
bench: setup-dev
	$(PY) tests/benchmarks/bench_graph.py

lint: setup-dev
	$(VENV)/bin/ruff check core viz workbench kernel_ext tests

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
