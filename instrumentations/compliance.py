"""Scores spans against the GenAI conventions by their requirement levels, per operation.

A span's type comes from its operation (agent run, tool execution, model interaction, memory
operation, routing decision), read through the one GenAI view of a span
(:mod:`instrumentations.genai_view`), so spans written in OpenLLMetry's or OpenInference's
form are scored by the facts they carry, under the OTel names. A span with ``gen_ai.*``
attributes but no operation counts as a model interaction missing it; an operation not in the
table (``invoke_workflow``, say) is not scored; the second record of a call that two
instrumentations recorded is not scored either.

The levels: a required attribute weighs two and always counts; a conditionally required one
weighs two and counts only where its condition holds (``error.type`` on a span whose status is
ERROR); an attribute the conventions ask for "if available" or "if applicable" counts only when
present (its absence says nothing: it may not exist); a recommended one weighs one.
A span's score is the weight present over the weight expected.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from instrumentations import conventions as c
from instrumentations.genai_view import DUPLICATE_OF, genai_view

ERROR_STATUS = 2
REQUIRED_WEIGHT, RECOMMENDED_WEIGHT = 2, 1


@dataclass(frozen=True)
class Rule:
    """What the conventions expect of one type of GenAI span (ours for routing)."""

    kind: str
    operations: tuple[str, ...]
    required: tuple[str, ...]
    recommended: tuple[str, ...]


RULES = (
    # invoke_agent: operation and provider required; the agent's name, id, description, model
    # and conversation "if applicable / available"
    Rule("agent_run", (c.INVOKE_AGENT, "create_agent"), (c.OPERATION, c.PROVIDER, c.AGENT_NAME), ()),
    # execute_tool: the name recommended; type, description and call id "if available"
    Rule("tool_execution", (c.EXECUTE_TOOL,), (c.OPERATION,), (c.TOOL_NAME,)),
    # inference: operation, provider and (where a model is named anywhere) the request model
    Rule(
        "model_interaction",
        c.MODEL_OPERATIONS,
        (c.OPERATION, c.PROVIDER, c.REQUEST_MODEL),
        (c.RESPONSE_MODEL, c.INPUT_TOKENS, c.OUTPUT_TOKENS, c.FINISH_REASONS),
    ),
    Rule(
        "memory_operation", c.MEMORY_OPERATIONS, (c.OPERATION, c.MEMORY_STORE_ID), (c.PROVIDER, c.MEMORY_TYPE)
    ),
    Rule(
        "routing_decision",
        (c.ROUTE,),
        (c.OPERATION, c.ROUTING_DECISION),
        (c.ROUTING_CANDIDATES, c.ROUTING_REASON),
    ),
)
_BY_OPERATION = {operation: rule for rule in RULES for operation in rule.operations}
_MODEL_RULE = _BY_OPERATION[c.CHAT]


def facts(attributes: Mapping[str, Any]) -> dict[str, Any] | None:
    """The span's attributes, with what its GenAI view says filled in under the OTel names
    (OpenLLMetry's ``gen_ai.usage.prompt_tokens``, OpenInference's ``llm.model_name``, ...);
    ``None`` for the second record of a call another instrumentation recorded too."""
    if DUPLICATE_OF in attributes:
        return None
    view = genai_view(attributes)
    found = dict(attributes)
    if view is None:
        return found
    for key, value in (
        (c.OPERATION, view.operation),
        (c.PROVIDER, view.provider),
        (c.REQUEST_MODEL, view.request_model),
        (c.RESPONSE_MODEL, view.response_model),
        (c.INPUT_TOKENS, view.usage.input),
        (c.OUTPUT_TOKENS, view.usage.output),
        (c.FINISH_REASONS, list(view.finish_reasons) or None),
        (c.AGENT_NAME, view.agent_name),
        (c.TOOL_NAME, view.tool_name),
    ):
        if value is not None and not _present(found, key):
            found[key] = value
    return found


def rule_for(attributes: Mapping[str, Any]) -> Rule | None:
    """The rule a span falls under, or None for a span that is not a GenAI operation."""
    operation = attributes.get(c.OPERATION)
    if isinstance(operation, str):
        return _BY_OPERATION.get(operation)
    if any(key.startswith("gen_ai.") for key in attributes):
        return _MODEL_RULE
    return None


@dataclass(frozen=True)
class SpanScore:
    kind: str
    score: float
    missing_required: tuple[str, ...]
    missing_recommended: tuple[str, ...]


def _present(attributes: Mapping[str, Any], key: str) -> bool:
    value = attributes.get(key)
    if isinstance(value, list | tuple):  # the SDK keeps lists as tuples, the store as lists
        return bool(value)
    return value is not None and value != ""


def score_span(attributes: Mapping[str, Any], status_code: int = 0) -> SpanScore | None:
    """Score one span (its attributes and status code); None if it is not a GenAI span."""
    found = facts(attributes)
    if found is None:
        return None
    rule = rule_for(found)
    if rule is None:
        return None
    required = rule.required + ((c.ERROR_TYPE,) if status_code == ERROR_STATUS else ())
    missing_required = tuple(key for key in required if not _present(found, key))
    missing_recommended = tuple(key for key in rule.recommended if not _present(found, key))
    expected = REQUIRED_WEIGHT * len(required) + RECOMMENDED_WEIGHT * len(rule.recommended)
    lost = REQUIRED_WEIGHT * len(missing_required) + RECOMMENDED_WEIGHT * len(missing_recommended)
    return SpanScore(rule.kind, (expected - lost) / expected, missing_required, missing_recommended)


@dataclass
class KindSummary:
    spans: int = 0
    total: float = 0.0

    @property
    def score(self) -> float:
        return self.total / self.spans if self.spans else 0.0


@dataclass
class ComplianceReport:
    """Scores over many spans: overall, per type, and the attributes missing most often."""

    spans_checked: int = 0
    genai_spans: int = 0
    total: float = 0.0
    kinds: dict[str, KindSummary] = field(default_factory=dict)
    missing: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (kind, key, level)

    @property
    def overall(self) -> float:
        return self.total / self.genai_spans if self.genai_spans else 0.0

    def add(self, attributes: Mapping[str, Any], status_code: int = 0) -> SpanScore | None:
        self.spans_checked += 1
        scored = score_span(attributes, status_code)
        if scored is None:
            return None
        self.genai_spans += 1
        self.total += scored.score
        summary = self.kinds.setdefault(scored.kind, KindSummary())
        summary.spans += 1
        summary.total += scored.score
        self.missing.update((scored.kind, key, "required") for key in scored.missing_required)
        self.missing.update((scored.kind, key, "recommended") for key in scored.missing_recommended)
        return scored

    def as_dict(self, top: int = 10) -> dict[str, Any]:
        return {
            "spans_checked": self.spans_checked,
            "genai_spans": self.genai_spans,
            "overall_percent": round(100 * self.overall, 1),
            "by_type": {
                kind: {"spans": summary.spans, "percent": round(100 * summary.score, 1)}
                for kind, summary in sorted(self.kinds.items())
            },
            "most_missing": [
                {"type": kind, "attribute": key, "level": level, "spans": count}
                for (kind, key, level), count in self.missing.most_common(top)
            ],
        }


def check(spans: Iterable[tuple[Mapping[str, Any], int]]) -> ComplianceReport:
    """Score (attributes, status code) pairs."""
    report = ComplianceReport()
    for attributes, status_code in spans:
        report.add(attributes, status_code)
    return report
