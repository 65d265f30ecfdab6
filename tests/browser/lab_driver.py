"""Start and stop a throw-away JupyterLab server and run a notebook in it through the page's `window.jupyterapp`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

# The news and update pop-up would cover the page (see NOTEBOOK_TESTING.md); windowing "none" keeps every cell
# attached and rendered, so outputs below the fold are in the DOM for the tests.
SETTINGS_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
}


@dataclass
class LabServer:
    """A running JupyterLab server: its URL, the folder it serves, its log file and its process."""

    url: str
    root: Path
    log_path: Path
    process: subprocess.Popen

    def api(self, method: str, path: str, timeout: float = 10) -> object:
        """Call the REST API (no token, no XSRF check: the server is started that way) and decode the JSON reply."""
        request = urllib.request.Request(f"{self.url}{path}", method=method)
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            body = reply.read()
        return json.loads(body) if body else None

    def log_tail(self, n_chars: int = 4000) -> str:
        """The end of the server log, for error messages."""
        try:
            return self.log_path.read_text(errors="replace")[-n_chars:]
        except OSError:
            return "<no server log>"

    def shutdown_kernels(self) -> None:
        """Shut every session (and its kernel) down, so a test's kernel does not outlive the test."""
        for session in self.api("GET", "/api/sessions") or []:
            try:
                self.api("DELETE", f"/api/sessions/{session['id']}", timeout=30)
            except urllib.error.HTTPError:
                pass  # already gone

    def stop(self, timeout: float = 20) -> None:
        """Stop the server by its process group: kernels first (REST), then SIGTERM, then SIGKILL."""
        if self.process.poll() is None:
            try:
                self.shutdown_kernels()
            except (OSError, urllib.error.URLError):
                pass
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.process.poll() is not None:
                break
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                continue


def write_notebook(path: Path, cells: list[str]) -> None:
    """Write a notebook of code cells (python3 kernel, no outputs) for a test."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, path)


def free_port() -> int:
    """A TCP port that is free now (the server is started with port_retries=0 and retried if it got taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _lab_command(port: int, root: Path, state: Path) -> list[str]:
    return [
        sys.executable, "-m", "jupyterlab",
        "--no-browser", "--allow-root", "--IdentityProvider.token=", "--ServerApp.password=",
        "--ip", "127.0.0.1", "--port", str(port), "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
        "--ServerApp.disable_check_xsrf=True", "--ServerApp.terminals_enabled=False",
        f"--LabApp.app_settings_dir={state / 'app-settings'}",
        f"--LabApp.user_settings_dir={state / 'user-settings'}",
        f"--LabApp.workspaces_dir={state / 'workspaces'}",
    ]  # fmt: skip


def start_lab(root: Path, state: Path, log_path: Path, timeout: float = 120, attempts: int = 3) -> LabServer:
    """Start `jupyter lab` on a free port serving `root` and wait until /api/status answers.

    `state` gets the settings (with the pop-up override), workspaces and the Jupyter config/data dirs, so the
    user's own Jupyter set-up does not leak in. Raises RuntimeError with the log tail when it does not start.
    """
    (state / "app-settings").mkdir(parents=True, exist_ok=True)
    (state / "app-settings" / "overrides.json").write_text(json.dumps(SETTINGS_OVERRIDES))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(state / "config"), JUPYTER_DATA_DIR=str(state / "data"),
               JUPYTER_RUNTIME_DIR=str(state / "runtime"), PYTHONUNBUFFERED="1")  # fmt: skip
    env.pop("JUPYTER_TOKEN", None)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    error = ""
    for _ in range(attempts):
        port = free_port()
        with open(log_path, "ab") as log:
            process = subprocess.Popen(_lab_command(port, root, state), stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, cwd=root, env=env, start_new_session=True)  # fmt: skip
        server = LabServer(f"http://127.0.0.1:{port}", root, log_path, process)
        if _wait_ready(server, timeout):
            return server
        server.stop()
        error = server.log_tail()
        if "already in use" not in error:
            break
    raise RuntimeError(f"JupyterLab did not start within {timeout:.0f} s; its log ({log_path}) ends with:\n{error}")


def _wait_ready(server: LabServer, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            server.api("GET", "/api/status", timeout=2)
            return True
        except (OSError, urllib.error.URLError, ValueError):
            time.sleep(0.25)
    return False


# Runs in the page. Opens the notebook, waits for its context, session and kernel info, then runs all cells.
# Progress and the result go to window.__gwRun, so Python can wait for it with a timeout and say where it hung.
_START_RUN_JS = """
(path) => {
  const state = window.__gwRun = {done: false, stage: 'waiting for the application'};
  (async () => {
    const app = window.jupyterapp;
    await app.started;
    await app.restored;
    state.stage = 'opening ' + path;
    const panel = await app.commands.execute('docmanager:open', {path, factory: 'Notebook'});
    app.shell.activateById(panel.id);
    state.stage = 'waiting for the notebook context';
    await panel.context.ready;
    state.stage = 'waiting for the session';
    await panel.sessionContext.ready;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    if (!kernel) { throw new Error('the notebook has no kernel (kernelspec missing from its metadata?)'); }
    state.stage = 'waiting for the kernel info';
    await kernel.info;
    state.stage = 'running all cells';
    state.ok = await app.commands.execute('notebook:run-all-cells', {widgetId: panel.id});
    state.stage = 'waiting for the kernel to be idle';
    while (kernel.status !== 'idle') { await new Promise(r => setTimeout(r, 100)); }
    const cells = panel.content.widgets.filter(c => c.model.type === 'code');
    state.unexecuted = cells.map((c, i) => c.model.executionCount === null ? i : -1).filter(i => i >= 0);
    state.errors = [];
    for (const cell of cells) {
      for (const out of cell.model.outputs.toJSON()) {
        if (out.output_type === 'error') { state.errors.push(out.ename + ': ' + out.evalue); }
      }
    }
    state.stage = 'done';
  })().catch(err => { state.error = String(err && err.stack || err); }).finally(() => { state.done = true; });
}
"""


def run_notebook(page, server: LabServer, path: str, timeout: float = 240) -> None:
    """Open `path` (relative to the server root) in JupyterLab, run all cells, and wait until they have run.

    Fails (AssertionError) naming the stage it hung in, the cells that did not run, or the errors cells raised.
    """
    page.goto(f"{server.url}/lab?reset", wait_until="domcontentloaded", timeout=timeout * 1000)
    page.wait_for_function("() => window.jupyterapp !== undefined", timeout=timeout * 1000)
    page.evaluate(_START_RUN_JS, path)
    try:
        page.wait_for_function("() => window.__gwRun.done", timeout=timeout * 1000, polling=200)
    except Exception as exc:  # playwright's TimeoutError
        stage = page.evaluate("() => window.__gwRun.stage")
        raise AssertionError(f"{path}: not done after {timeout:.0f} s, still {stage}") from exc
    state = page.evaluate("() => window.__gwRun")
    assert not state.get("error"), f"{path}: failed while {state['stage']}: {state['error']}"
    assert not state["errors"], f"{path}: cells raised {state['errors']}"
    assert state["ok"] and not state["unexecuted"], f"{path}: code cells {state['unexecuted']} did not run"
