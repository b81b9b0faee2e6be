"""Who may import whom (DESIGN): each package usable and testable on its own.

- ``instrumentations`` uses the OTel API only (never the SDK) and none of our other packages;
- ``processors`` and ``exporters`` never import each other's modules, nor ``otel_distro``
  beyond the shared leaves;
- the leaves every layer shares (``otel_distro._sdk``, ``otel_distro.runtime``) import nothing
  of ours but each other;
- GenAI readers take the one GenAI view from ``instrumentations.genai_view``.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = ("otel_distro", "processors", "exporters", "instrumentations")
LEAVES = ("otel_distro._sdk", "otel_distro.runtime")
GENAI_VIEW = "instrumentations.genai_view"


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """Every module a file imports (function-level imports too), with its line."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, node.lineno


def _allowed(module: str, imported: str) -> bool:
    package, top = module.split(".", maxsplit=1)[0], imported.split(".", maxsplit=1)[0]
    if top not in OURS or imported == "otel_distro":  # the light package itself: no eager imports
        return package != "instrumentations" or not imported.startswith("opentelemetry.sdk")
    leaf = imported.startswith(LEAVES)
    if module.startswith(LEAVES):
        return leaf
    if package == "otel_distro":
        return True  # the one place that assembles
    if package == "instrumentations":
        return top == "instrumentations" or leaf
    # processors, exporters: their own modules, the leaves, the GenAI view
    return top == package or leaf or imported.startswith(GENAI_VIEW)


def test_every_package_imports_only_what_its_layer_may() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {imported}"
        for package in OURS
        for path in sorted((ROOT / package).rglob("*.py"))
        for imported, line in _imports(path)
        if not _allowed(".".join(path.relative_to(ROOT).with_suffix("").parts), imported)
    ]
    assert wrong == []


def test_the_rule_itself_refuses_what_the_design_forbids() -> None:
    assert not _allowed("processors.chain", "exporters.store.files")
    assert not _allowed("exporters.upload", "processors.pii.redactor")
    assert not _allowed("exporters.upload", "otel_distro.settings")
    assert not _allowed("instrumentations.runs", "opentelemetry.sdk.trace")
    assert not _allowed("otel_distro.runtime.worker", "otel_distro.settings")
    assert _allowed("exporters.store.export", "otel_distro.runtime.errors")
    assert _allowed("processors.genai_duplicates", "instrumentations.genai_view")


def test_importing_a_shared_leaf_loads_no_settings_nor_pipeline() -> None:
    import subprocess
    import sys

    code = (
        "import sys, otel_distro.runtime.errors, otel_distro._sdk, instrumentations\n"
        "print(sorted(m for m in sys.modules if m in ('otel_distro.settings', 'otel_distro.handle',"
        " 'otel_distro.pipeline')))\n"
        "from otel_distro import configure, Settings\n"  # the public names still there, at first use
        "print(callable(configure), Settings.__name__)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert run.stdout.split("\n")[:2] == ["[]", "True Settings"]


def _module_names() -> dict[str, Path]:
    names = {}
    for package in OURS:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            names[name.removesuffix(".__init__")] = path
    return names


def _runtime_imports(path: Path, modules: Collection[str]) -> Iterator[str]:
    """The modules of ours a file imports when it runs (function-level imports too; not those
    under ``if TYPE_CHECKING:``); ``from package import module`` names the module, not the package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            found = [name for name in submodules if name in modules]
            yield from found
            if len(found) < len(submodules) and node.module in modules:
                yield node.module


def _cycles(graph: Mapping[str, Collection[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for imported in graph[module]:
            if imported not in order:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], order[imported])
        if low[module] == order[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in graph:
        if module not in order:
            visit(module)
    return groups


def test_no_module_of_ours_imports_itself_back_even_inside_a_function() -> None:
    modules = _module_names()
    graph = {name: set(_runtime_imports(path, modules)) - {name} for name, path in modules.items()}
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle_through_a_function_level_import() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_takes_a_private_name_from_another_module_of_ours() -> None:
    modules = _module_names()
    taken = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.module}.{alias.name}"
        for path in modules.values()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in OURS
        for alias in node.names
        if alias.name.startswith("_")
        and not alias.name.startswith("__")  # a dunder is public
        and f"{node.module}.{alias.name}" not in modules  # a private module (_sdk) is a leaf of its own
    ]
    assert taken == []
