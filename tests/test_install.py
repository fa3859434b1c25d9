"""A non-editable install carries the shipped encoders: notebooks 06 and 09 load them, retrain nothing.

This is what the set-up cell does on Colab (``pip install --no-deps ./skelcl``, a regular wheel
install). The test builds a wheel from a copy of this checkout, installs it into a fresh virtual
environment (reusing the installed torch through ``--system-site-packages``), then runs both
notebooks in smoke mode from a folder outside the checkout, with that environment's Python as
the kernel.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ("06_ascal_end_to_end", "09_inspecting_representations")
IGNORED = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "build", "dist", "runs",
                                 "outputs", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints", ".venv")

pytestmark = pytest.mark.slow


def _clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SKELCL_CHECKPOINTS")}
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", **extra)
    return env


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory) -> pathlib.Path:
    base = tmp_path_factory.mktemp("install")
    src, venv = base / "skelcl", base / "venv"
    shutil.copytree(ROOT, src, ignore=IGNORED)           # builds write into the source tree
    # the wheel is built with this Python's setuptools (no download), then installed in the venv
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                        "-w", str(base / "dist"), str(src)], capture_output=True, text=True,
                       env=_clean_env(), cwd=base)
    assert r.returncode == 0, r.stdout + r.stderr
    (wheel,) = (base / "dist").glob("skelcl-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    r = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                       capture_output=True, text=True, env=_clean_env(), cwd=base)
    assert r.returncode == 0, r.stdout + r.stderr
    shutil.rmtree(src)                                   # nothing may be read from the source copy
    return python


def test_installed_package_holds_the_checkpoints(venv_python, tmp_path):
    probe = ("import json, skelcl_lib, skelcl_lib.checkpoints as c; "
             "print(json.dumps({'file': skelcl_lib.__file__, 'dir': str(c.checkpoint_dir()), "
             "'manifest': sorted(c.read_manifest()['entries']), 'available': sorted(c.available())}))")
    r = subprocess.run([str(venv_python), "-c", probe], capture_output=True, text=True,
                       env=_clean_env(), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    venv = venv_python.parents[1]
    assert pathlib.Path(got["file"]).is_relative_to(venv), got["file"]       # not this checkout
    assert pathlib.Path(got["dir"]).is_relative_to(venv), got["dir"]
    shipped = json.loads((ROOT / "skelcl_lib" / "pretrained" / "manifest.json").read_text())["entries"]
    assert got["manifest"] == sorted(shipped)
    assert got["available"] == sorted(shipped)


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_notebook_uses_shipped_encoders_from_an_install(stem, venv_python, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    kernels = tmp_path / "jupyter" / "kernels" / "skelcl-installed"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(venv_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "skelcl (installed)", "language": "python"}))
    workdir, cache, report = tmp_path / "learner", tmp_path / "cache", tmp_path / "report.json"
    workdir.mkdir()
    for key, value in _clean_env(SKELCL_SMOKE="1", MPLBACKEND="Agg", SKELCL_CACHE=str(cache),
                                 JUPYTER_PATH=str(tmp_path / "jupyter")).items():
        monkeypatch.setenv(key, value)
    for key in ("PYTHONPATH", "SKELCL_CHECKPOINTS"):
        monkeypatch.delenv(key, raising=False)

    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json, sys, skelcl_lib\n"
        f"json.dump({{'file': skelcl_lib.__file__, 'python': sys.executable}}, open({str(report)!r}, 'w'))"))
    nbclient.NotebookClient(nb, timeout=1200, kernel_name="skelcl-installed",
                            resources={"metadata": {"path": str(workdir)}}).execute()

    seen = json.loads(report.read_text())
    assert seen["python"] == str(venv_python)
    assert pathlib.Path(seen["file"]).is_relative_to(venv_python.parents[1]), seen["file"]
    text = "\n".join(str(o.get("text", "")) for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []))
    assert "pretraining it now" not in text            # load_or_train's retraining message
    assert not (cache / "runs").exists(), sorted(p.name for p in (cache / "runs").iterdir())
