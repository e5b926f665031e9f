"""Every example script and notebook runs start to finish (on small data)."""

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).parents[1] / "examples"


@pytest.fixture
def workdir(tmp_path):
    shutil.copytree(EXAMPLES / "data", tmp_path / "data")
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.ipynb")))
def test_notebook_runs(name, workdir):
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    ).execute()
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("[!_]*.py")))
def test_script_runs(name, workdir):
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), str(workdir)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "MPLBACKEND": "Agg"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "report:" in done.stdout
    assert list(workdir.glob("*report.html"))


def test_notebooks_are_generated_from_source():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_make", EXAMPLES / "_make_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, cells in [
        ("01_quickstart", module.QUICKSTART),
        ("02_cph_value_matrix", module.CPH),
        ("03_full_study", module.STUDY),
    ]:
        nb = nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
        assert [c.source for c in nb.cells] == [t.strip("\n") for _, t in cells], name
