"""The notebook builder: the set-up cell opens every notebook, its address comes from pyproject.toml,
and the cell installs the course on Colab only."""

import importlib.util
import json
import pathlib
import subprocess
import sys
import types

import pytest
from datapaths import load_script

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


nbbuild = load_script("tools/nbbuild.py")


def _pyproject_url():
    try:
        import tomllib
    except ImportError:
        import tomli as tomllib
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]


def test_the_address_comes_from_pyproject():
    url = _pyproject_url()
    assert nbbuild.repository_url() == url
    cell = nbbuild.setup_cell()
    assert f'REPO_URL = "{url}"' in cell["source"]
    assert nbbuild.URL_MARK not in cell["source"]


def test_a_bad_address_names_the_field(tmp_path):
    bad = tmp_path / "pyproject.toml"
    bad.write_text('[project]\nname = "x"\n[project.urls]\nRepository = "not a url"\n')
    with pytest.raises(SystemExit, match=r"\[project.urls\] Repository"):
        nbbuild.repository_url(bad)


def test_every_notebook_opens_with_the_setup_cell():
    assert len(NOTEBOOKS) == len(nbbuild.sources()) >= 11
    for path in NOTEBOOKS:
        assert nbbuild.opens_with_setup_cell(path.read_text()), path.name
        cells = json.loads(path.read_text())["cells"]
        # written once: no other cell repeats the installer
        assert sum("git\", \"clone" in "".join(c["source"]) for c in cells) == 1, path.name


def test_check_reports_a_notebook_without_the_setup_cell():
    nb = json.loads(NOTEBOOKS[0].read_text())
    nb["cells"] = nb["cells"][1:]
    assert not nbbuild.opens_with_setup_cell(json.dumps(nb))
    nb["cells"] = list(reversed(json.loads(NOTEBOOKS[0].read_text())["cells"][:2]))
    assert not nbbuild.opens_with_setup_cell(json.dumps(nb))


def test_the_helper_template_is_not_built_as_a_notebook():
    assert all(p.name[:2].isdigit() for p in nbbuild.sources())
    assert not (ROOT / "notebooks" / "_setup_cell.ipynb").exists()


def _run_cell(monkeypatch, tmp_path, capsys, colab: bool, installed: bool):
    calls = []
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append(list(args)))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: (real_find_spec(name, *a) if installed or name != "skelcl_lib"
                                          else None))
    for key in [k for k in list(__import__("os").environ) if k.startswith("COLAB_")]:
        monkeypatch.delenv(key)
    if colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(nbbuild.setup_cell()["source"], "setup-cell", "exec"), {})
    return calls, capsys.readouterr().out


def test_setup_cell_does_nothing_off_colab(monkeypatch, tmp_path, capsys):
    calls, out = _run_cell(monkeypatch, tmp_path, capsys, colab=False, installed=False)
    assert calls == []
    assert out.strip() == "Not on Colab: nothing to set up"


def test_setup_cell_clones_and_installs_on_colab(monkeypatch, tmp_path, capsys):
    calls, out = _run_cell(monkeypatch, tmp_path, capsys, colab=True, installed=False)
    assert calls[0] == ["git", "clone", "--depth", "1", _pyproject_url(), "skelcl"]
    assert calls[1][:3] == [sys.executable, "-m", "pip"] and calls[1][-1] == "./skelcl"
    assert "-e" not in calls[1] and "--editable" not in calls[1]      # package data must travel
    assert "installed" in out


def test_setup_cell_skips_the_install_when_the_library_is_there(monkeypatch, tmp_path, capsys):
    calls, _ = _run_cell(monkeypatch, tmp_path, capsys, colab=True, installed=True)
    assert calls == []
