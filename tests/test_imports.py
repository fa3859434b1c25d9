"""The package's import graph, read from the source (ast): no cycles, no import from a higher layer,
and imports of the package's own modules at module top (where a reader sees them)."""

from __future__ import annotations

import ast
import importlib
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "skelcl_lib"

# Lower layers never import higher ones; a module may import its own layer when that adds no cycle.
LAYERS = [
    ("base", ["skelcl_lib", "errors", "_lazy", "skeleton", "env", "config", "configs", "neighbours"]),
    ("data", ["data", "augment", "viz"]),
    ("models", ["models"]),
    ("methods", ["methods"]),
    ("train", ["optim", "rundir", "train"]),
    ("evaluate", ["evaluate"]),
    ("apps", ["pretrain", "checkpoints", "benchmark", "demo", "widgets", "exercises"]),
    ("cli", ["cli", "__main__"]),
]

# Imports of the package's own modules inside a function (allowed only here, each without a cycle).
LOCAL_IMPORTS_ALLOWED = {("skelcl_lib.data.formats", "skelcl_lib.data.frame50")}


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(name: str) -> bool:
    return (ROOT / name.replace(".", "/") / "__init__.py").exists()


def resolve(importer: str, node) -> list[str]:
    """Package modules an import statement loads (a ``from pkg import name`` of a submodule
    counts as that submodule)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "skelcl_lib"]
    if node.level:
        base = importer.split(".") if is_package(importer) else importer.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != "skelcl_lib":
        return []
    out = []
    for a in node.names:
        sub = f"{target}.{a.name}"
        out.append(sub if (ROOT / (sub.replace(".", "/") + ".py")).exists() or is_package(sub) else target)
    return out


def collect():
    """{module: {imported module: at_top}} for every module of the package."""
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        tree = ast.parse(path.read_text(), str(path))
        top = {id(n) for n in tree.body}
        top |= {id(c) for n in tree.body if isinstance(n, (ast.If, ast.Try)) for c in ast.walk(n)}
        edges = graph.setdefault(name, {})
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in resolve(name, node):
                    if target != name:
                        edges[target] = edges.get(target, False) or id(node) in top
    return graph


def layer_of(name: str) -> int:
    rest = name.split(".", 1)[1] if "." in name else "skelcl_lib"
    head = rest.split(".")[0]
    for i, (_, members) in enumerate(LAYERS):
        if head in members or rest in members:
            return i
    raise AssertionError(f"{name}: in no layer of tests/test_imports.py LAYERS; add it there")


GRAPH = collect()


def test_every_module_has_a_layer():
    for name in GRAPH:
        layer_of(name)


def test_no_module_imports_a_higher_layer():
    upward = [f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})"
              for a, targets in GRAPH.items() for b in targets
              if b in GRAPH and layer_of(b) > layer_of(a)]
    assert not upward, "\n".join(upward)


def test_import_graph_has_no_cycle():
    state: dict[str, int] = {}             # 1: on the current path, 2: done

    def visit(node, path):
        state[node] = 1
        for nxt in GRAPH.get(node, {}):
            if nxt == node or nxt not in GRAPH:
                continue
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for name in GRAPH:
        if name not in state:
            visit(name, [name])


def test_package_imports_sit_at_module_top():
    local = sorted(f"{a} imports {b} inside a function" for a, targets in GRAPH.items()
                   for b, at_top in targets.items()
                   if not at_top and (a, b) not in LOCAL_IMPORTS_ALLOWED)
    assert not local, "\n".join(local)


@pytest.mark.parametrize("name", sorted(n for n in GRAPH if not n.endswith("__main__")))
def test_every_module_imports(name):
    """The fast tier loads every module, also those only the notebooks drive."""
    importlib.import_module(name)


def test_the_checker_sees_cycles_and_upward_imports(tmp_path):
    """The resolver maps relative imports to modules (so the tests above are not vacuous)."""
    assert GRAPH["skelcl_lib.train"].get("skelcl_lib.optim") is True
    assert "skelcl_lib.methods.moco" in GRAPH["skelcl_lib.methods.ascal"]
    assert "skelcl_lib.evaluate.features" in GRAPH["skelcl_lib.evaluate.knn"]
    assert layer_of("skelcl_lib.evaluate.suite") > layer_of("skelcl_lib.train")
    tree = ast.parse("from ..train import fit\nfrom . import moco")
    assert resolve("skelcl_lib.methods.ascal", tree.body[0]) == ["skelcl_lib.train"]
    assert resolve("skelcl_lib.methods.ascal", tree.body[1]) == ["skelcl_lib.methods.moco"]
