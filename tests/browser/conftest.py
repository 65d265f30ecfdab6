"""Fixtures for the browser tests: one JupyterLab server and one headless Debian chromium per pytest worker."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from pathlib import Path

import pytest
from lab_driver import LabServer, start_lab

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]  # fmt: skip


def pytest_addoption(parser):
    """``--browser=require`` (what ``make test`` passes): a missing chromium, Playwright or JupyterLab fails the
    browser tests instead of skipping them."""
    parser.addoption("--browser", choices=("auto", "require"), default="auto",
                     help="require: fail (instead of skip) the browser tests when chromium, Playwright or "
                          "JupyterLab is missing")


def pytest_configure(config):
    if config.getoption("browser") == "require" and importlib.util.find_spec("playwright") is None:
        # the test modules would skip themselves at import
        raise pytest.UsageError("--browser=require, but playwright is missing (make test installs it)")


def _unavailable(config, reason: str) -> None:
    if config.getoption("browser") == "require":
        pytest.fail(f"{reason} (--browser=require); `make test` installs it", pytrace=False)
    pytest.skip(reason)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so the `page` fixture knows at teardown whether the test failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory, pytestconfig) -> LabServer:
    """A JupyterLab server serving a copy of notebooks/ (tests may add notebooks to `lab_server.root`).

    The log is kept in test-artifacts/browser/jupyterlab-<worker>.log.
    """
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        _unavailable(pytestconfig, "jupyterlab is not installed")
    base = tmp_path_factory.mktemp("lab")
    root = base / "notebooks"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    log_path = ARTIFACTS / f"jupyterlab-{_worker()}.log"
    log_path.unlink(missing_ok=True)
    server = start_lab(root, base / "state", log_path)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(pytestconfig):
    """Debian's chromium (never a downloaded one) driven by Playwright, headless."""
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable(pytestconfig, "playwright (the Python package) is not installed")
    expect.set_options(timeout=30_000)  # widgets render after the kernel replies; the machine may be busy
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(pytestconfig, f"chromium not found at {CHROMIUM} (Debian: apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(request, browser, lab_server):
    """A fresh browser page; on failure a screenshot and the console log go to test-artifacts/browser/."""
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    for stale in (ARTIFACTS / f"{name}.png", ARTIFACTS / f"{name}.console.txt"):
        stale.unlink(missing_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda err: console.append(f"pageerror: {err}"))
    yield page
    reports = [getattr(request.node, f"rep_{when}", None) for when in ("setup", "call")]
    if any(report is not None and report.failed for report in reports):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception as exc:  # a crashed page: keep the console log anyway
            console.append(f"screenshot failed: {exc}")
        (ARTIFACTS / f"{name}.console.txt").write_text("\n".join(console))
    context.close()
    lab_server.shutdown_kernels()
