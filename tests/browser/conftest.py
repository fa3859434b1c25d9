"""Fixtures for the real-browser tests: a JupyterLab server on 127.0.0.1 and a headless Chromium page.

Nothing here imports playwright at import time, so collecting this folder never fails on a machine
without it; there every test of the folder is skipped with the reason
(``pytest_collection_modifyitems``). Run: ``tools/browser_test.sh``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("SKELCL_CHROMIUM") or "/usr/bin/chromium"   # Debian's package
DEFAULT_NOTEBOOK = REPO / "notebooks" / "09_inspecting_representations.ipynb"
# Without the background-networking flags Chromium keeps dialling out on a closed network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_TIMEOUT = 120.0


# ------------------------------------------------------------------------------ helpers

def notebook_path() -> Path:
    """``$SKELCL_BROWSER_NOTEBOOK``, else notebook 09."""
    env = os.environ.get("SKELCL_BROWSER_NOTEBOOK")
    if env:
        p = Path(env)
        p = p if p.is_absolute() else REPO / p
        if not p.is_file():
            raise FileNotFoundError(f"SKELCL_BROWSER_NOTEBOOK={env!r}: no such notebook ({p})")
        return p.resolve()
    return DEFAULT_NOTEBOOK


def screenshot_dir() -> Path:
    """``$SKELCL_SCREENSHOTS`` (relative paths from the repo root), default ``outputs/browser``."""
    p = Path(os.environ.get("SKELCL_SCREENSHOTS") or "outputs/browser")
    p = p if p.is_absolute() else REPO / p
    p.mkdir(parents=True, exist_ok=True)
    return p


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_lab_settings(settings_dir: Path) -> None:
    """User settings for the throw-away server: no autosave (running the course notebook must not
    write its outputs into the repository), no news or update checks (closed network), no
    windowing of notebook cells."""
    files = {
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
            {"fetchNews": "false", "checkForUpdates": False},
        # every cell stays in the DOM, so the explorers can be found wherever they sit; the
        # notebook's own kernel starts without the "Select Kernel" dialog
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
            {"windowingMode": "none", "autoStartDefaultKernel": True},
    }
    for rel, value in files.items():
        p = settings_dir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(value))


class LabServer:
    """A ``jupyter lab`` subprocess; ``url(path)`` gives a browser URL with the token."""

    def __init__(self, root: Path, scratch: Path):
        self.root, self.scratch = root, scratch
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = scratch / "jupyterlab.log"
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict:
        home = self.scratch / "home"
        dirs = {"HOME": home, "SKELCL_CACHE": self.scratch / "cache",
                "JUPYTER_RUNTIME_DIR": self.scratch / "runtime",
                "JUPYTER_CONFIG_DIR": self.scratch / "jupyter_config",
                "JUPYTERLAB_SETTINGS_DIR": self.scratch / "lab_settings",
                "JUPYTERLAB_WORKSPACES_DIR": self.scratch / "lab_workspaces",
                "IPYTHONDIR": self.scratch / "ipython", "MPLCONFIGDIR": self.scratch / "mpl"}
        for d in dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        _write_lab_settings(dirs["JUPYTERLAB_SETTINGS_DIR"])
        env = dict(os.environ)
        env.update({k: str(v) for k, v in dirs.items()})
        env["SKELCL_SMOKE"] = "1"
        env.pop("MPLBACKEND", None)                    # the kernel picks its inline backend itself
        # the kernel spec says "python"; jupyter_client maps that to this interpreter
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        return env

    def start(self) -> "LabServer":
        cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={self.port}",
               "--port-retries=0", f"--IdentityProvider.token={self.token}", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.root_dir={self.root}", "--LabApp.news_url=",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")                 # CI containers and this dev box run as root
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=self.env(), stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer within {SERVER_START_TIMEOUT:.0f} s:\n"
                           f"{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM (the server shuts its kernels down), then SIGKILL of its own process group."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)   # the group this fixture created
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)

    def url(self, path: Path) -> str:
        rel = path.resolve().relative_to(self.root).as_posix()
        return f"{self.base}/lab/tree/{urllib.request.quote(rel)}?token={self.token}"

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return "(no log)"


# ------------------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """JupyterLab on a free loopback port, rooted at the repository, stopped afterwards."""
    server = LabServer(REPO, tmp_path_factory.mktemp("jupyterlab"))
    server.start()
    yield server
    server.stop()


def missing_requirement() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    import importlib.util

    if not os.path.exists(CHROMIUM):
        return (f"browser test needs Debian's chromium at {CHROMIUM} (apt-get install chromium, or "
                "SKELCL_CHROMIUM=/path/to/chromium); run tools/browser_test.sh")
    if importlib.util.find_spec("playwright") is None:
        return ("browser test needs the playwright package (pip install playwright; no browser "
                "download needed); run tools/browser_test.sh")
    return None


def pytest_collection_modifyitems(config, items):
    """Skip every test of this folder, with the reason, where chromium or playwright is missing."""
    reason = missing_requirement()
    if reason:
        for item in items:
            if HERE in Path(str(item.path)).resolve().parents:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="module")
def notebook_file() -> Path:
    return notebook_path()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    return screenshot_dir()


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    """A headless Debian Chromium (never a downloaded browser) with a fresh profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium_profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1000}, chromium_sandbox=False)
        context.set_default_timeout(30_000)
        yield context
        context.close()
