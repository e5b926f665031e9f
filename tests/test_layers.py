"""The house reads one way: no import cycles, no import from a later layer.

Every ``import`` statement counts, including those inside functions: an import
deferred to call time is still a dependency, and the usual way a cycle hides.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "payseg"

# Layer of each module, by longest matching dotted prefix. Lower layers never import
# higher ones (DESIGN: data -> features -> cluster -> labels -> plot -> report -> cli).
LAYERS = {
    "payseg._schema": 0,
    "payseg._vocab": 0,
    "payseg._sklearn_compat": 0,
    "payseg._version": 0,
    "payseg._headers": 0,
    "payseg._fonts": 0,
    "payseg.exceptions": 0,
    "payseg.channels": 0,
    "payseg.calendar": 0,
    "payseg.conftest": 0,
    "payseg.data": 1,  # the loader: data.py and the private payseg._x modules below
    "payseg.synth": 1,
    "payseg.features": 2,
    "payseg.cluster": 3,
    "payseg.evaluate": 3,
    "payseg.labels": 4,
    "payseg.plot": 5,
    "payseg.report": 6,
    "payseg._pipeline": 7,
    "payseg.scale": 7,
    "payseg.cli": 8,
    "payseg": 8,  # the package itself re-exports the public names
}
LOADER = 1  # a top-level private module not listed above belongs to the loader


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def layer(module: str) -> int:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in LAYERS:
            if key == "payseg" and len(parts) == 2 and parts[1].startswith("_"):
                return LOADER
            return LAYERS[key]
    raise AssertionError(f"{module} has no layer: add it to LAYERS in {__file__}")


def _target(name: str) -> str | None:
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name if name in MODULES else None


def imports(module: str, source: str | None = None) -> set[str]:
    """Every payseg module ``module`` imports, wherever the statement stands."""
    path = MODULES[module]
    package = (
        module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    )
    if source is None:
        source = path.read_text(encoding="utf-8")
    found = set()
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            names = [f"{mod}.{a.name}" for a in node.names]
        for name in names:
            if name.split(".")[0] == "payseg":
                target = _target(name)
                if target and target != module:
                    found.add(target)
    # importlib.import_module("payseg.x") in the lazy package __init__ is a use,
    # not a dependency of the package on x: it is deliberately left out.
    return found


GRAPH = {m: imports(m) for m in MODULES}


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def test_every_module_has_a_layer():
    for module in MODULES:
        layer(module)


def test_no_import_cycles():
    # the package __init__ re-exports from its modules, and the CLI imports the
    # package: that pair is the only allowed loop through "payseg" itself
    graph = {m: {t for t in ts if t != "payseg"} for m, ts in GRAPH.items()}
    assert _cycles(graph) == []


def test_imports_read_one_way():
    upward = sorted(
        f"{m} (layer {layer(m)}) imports {t} (layer {layer(t)})"
        for m, targets in GRAPH.items()
        for t in targets
        if layer(t) > layer(m)
    )
    assert upward == []


def test_checker_sees_imports_inside_functions():
    # a deferred import must count, or the two tests above prove nothing about the
    # cycles this file exists to prevent
    source = (
        "def f():\n    from ..plot import plot_migration\n    from . import _common\n"
    )
    assert imports("payseg.labels._credit", source) == {
        "payseg.plot",
        "payseg.labels._common",
    }
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]


@pytest.mark.parametrize(
    "module",
    ["payseg._schema", "payseg._vocab", "payseg.exceptions", "payseg._sklearn_compat"],
)
def test_contract_imports_nothing_from_payseg(module):
    assert GRAPH[module] == set()


def _private_imports(module: str) -> set[str]:
    """Private names ``module`` takes from another payseg package (not the contract)."""
    path = MODULES[module]
    package = (
        module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    )
    own = ".".join(module.split(".")[:2])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        base = package[: len(package) - node.level + 1] if node.level else []
        mod = ".".join(base + ([node.module] if node.module else []))
        for alias in node.names:
            name = f"{mod}.{alias.name}"
            parts = name.split(".")
            if parts[0] != "payseg" or len(parts) < 3 or name.startswith(own + "."):
                continue
            if layer(".".join(parts[:2])) == 0:  # the contract: _schema, _vocab, ...
                continue
            if any(p.startswith("_") and not p.startswith("__") for p in parts[2:]):
                found.add(name)
    return found


@pytest.mark.parametrize(
    "module",
    sorted(
        m for m in MODULES if m.split(".")[1:2] in (["labels"], ["plot"], ["report"])
    ),
)
def test_labels_plot_report_share_public_names_only(module):
    # What the report and the plots share is in the contract or public in plot
    # (segment_colors, value_colors, profile_columns), never a private helper.
    assert _private_imports(module) == set()


@pytest.mark.parametrize(
    "module",
    sorted(
        m
        for m in MODULES
        if m.startswith("payseg.scale") or (layer(m) == LOADER and m.count(".") == 1)
    ),
)
def test_loader_and_scale_share_public_names_only(module):
    # The loader's modules share public names (map_columns, parse_dates, Ledger,
    # clean_payments, ...); scale reaches the loader and features through them.
    assert _private_imports(module) == set()
