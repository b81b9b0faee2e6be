"""Internal errors: a bug of our own caught on the app's behalf fails the test suite; the
failures the code expects (I/O, a plugin's or another library's errors) do not."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from otel_distro.runtime import errors
from otel_distro.runtime.errors import caught, is_bug
from processors.hashing import KeyedDigest


def _raised(call: object) -> BaseException:
    try:
        call()  # type: ignore[operator]
    except Exception as exc:
        return exc
    raise AssertionError("nothing was raised")


def test_a_programming_error_in_our_code_is_a_bug_and_fails_the_suite() -> None:
    ours = _raised(lambda: KeyedDigest(None))  # type: ignore[arg-type]  # our code, misused
    assert isinstance(ours, TypeError)
    assert is_bug(ours)
    with pytest.raises(TypeError):
        caught("digesting", ours)


def test_errors_the_code_expects_or_that_are_not_ours_pass() -> None:
    def plugin() -> None:  # a plugin's (or any other library's) own bug
        raise KeyError("its own")

    foreign = _raised(plugin)
    io = _raised(lambda: open("/nonexistent/dir/file"))  # noqa: SIM115
    for exc in (foreign, io):
        assert not is_bug(exc)
        caught("calling out", exc)  # nothing raised


def test_outside_the_suite_a_bug_is_logged_once_and_the_app_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(errors.STRICT_ENV, "0")
    ours = _raised(lambda: KeyedDigest(None))  # type: ignore[arg-type]
    caught("digesting, once", ours)
    caught("digesting, once", ours)
    assert len([r for r in caplog.records if "digesting, once" in r.getMessage()]) == 1


def test_a_bug_in_our_instrumentation_helpers_fails_the_suite_and_a_broken_span_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry import trace

    from instrumentations import _spans

    class BrokenSpan:  # another SDK's span whose methods fail: not our bug, the app goes on
        def set_attribute(self, key: str, value: object) -> None:
            raise KeyError(key)

    _spans.mark_error(BrokenSpan(), ValueError("the app's"))  # type: ignore[arg-type]  # nothing raised
    monkeypatch.setattr(_spans, "MAX_TEXT", "10")  # our own code broken: a TypeError in our frame
    with pytest.raises(TypeError):
        _spans.mark_error(trace.INVALID_SPAN, ValueError("the app's"))


_ROOT = Path(__file__).resolve().parents[2]
_HELPERS = {"caught", "internal_error", "warn_once"}  # warn_once: instrumentations' (it calls caught)
# where a broad except meets the app's own errors only, by file and function
_EXPECTED = {
    # the app's bad logging call (a %-format that does not fit, a __str__ that raises), raised
    # in the standard library's formatting of the record: counted and said once, not a bug of ours
    ("otel_distro/log_bridge.py", "emit"),
}


def _calls(nodes: list[ast.stmt]) -> set[str]:
    return {
        node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        for statement in nodes
        for node in ast.walk(statement)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)
    }


def _handlers(tree: ast.AST) -> list[tuple[str, ast.ExceptHandler]]:
    """Each except clause, with the name of the function it is in ("" at module level)."""
    found: list[tuple[str, ast.ExceptHandler]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ExceptHandler):
                found.append((function, child))
            named = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, child.name if named else function)  # type: ignore[union-attr]

    visit(tree, "")
    return found


def _broad_handlers_that_swallow() -> list[str]:
    """Each ``except Exception`` (or ``BaseException``, or bare) in our packages that neither
    hands the error to the helper (directly, or through a function of ours every definition of
    which does) nor raises it again, nor passes it on (a generator's ``throw``)."""
    trees = {
        path: ast.parse(path.read_text(encoding="utf-8"))
        for package in ("otel_distro", "processors", "exporters", "instrumentations")
        for path in sorted((_ROOT / package).rglob("*.py"))
    }
    definitions: dict[str, list[bool]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                definitions.setdefault(node.name, []).append(bool(_calls(node.body) & _HELPERS))
    helpers = _HELPERS | {name for name, each in definitions.items() if all(each)}
    found = []
    for path, tree in trees.items():
        for function, node in _handlers(tree):
            if (str(path.relative_to(_ROOT)), function) in _EXPECTED:
                continue
            kinds = node.type.elts if isinstance(node.type, ast.Tuple) else [node.type]
            if not any(
                kind is None or (isinstance(kind, ast.Name) and kind.id in ("Exception", "BaseException"))
                for kind in kinds
            ):
                continue
            raises = any(
                isinstance(inner, ast.Raise) for statement in node.body for inner in ast.walk(statement)
            )
            passed_on = node.name is not None and any(
                isinstance(statement, ast.Assign)
                and any(
                    isinstance(inner, ast.Name) and inner.id == node.name
                    for inner in ast.walk(statement.value)
                )
                for statement in node.body
            )
            if not (raises or passed_on or _calls(node.body) & helpers):
                found.append(f"{path.relative_to(_ROOT)}:{node.lineno}")
    return found


def test_every_broad_except_of_ours_hands_the_error_to_the_internal_error_helper() -> None:
    # so that a bug of ours swallowed on the app's behalf still fails the suite
    assert _broad_handlers_that_swallow() == []


def test_the_rule_finds_a_broad_except_that_swallows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "processors"
    package.mkdir()
    (package / "quiet.py").write_text("try:\n    x = 1\nexcept Exception:\n    pass\n")
    monkeypatch.setattr(sys.modules[__name__], "_ROOT", tmp_path)
    assert _broad_handlers_that_swallow() == ["processors/quiet.py:3"]
