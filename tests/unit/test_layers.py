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
from collections.abc import Iterator
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
