"""Differentially private metrics for upload: noisy aggregates instead of raw points.

The stored metric points are aggregated per series (resource, scope, metric, point attributes)
and per window (a UTC day, :data:`WINDOW_SECONDS`): a sum's increase over the window (delta
points summed, cumulative points turned into their increases first), a gauge's mean, a
histogram's sum and bucket counts. Every number released by one upload goes through one OpenDP
measurement, Laplace (``make_laplace``, pure ε-DP) or Gaussian (``make_gaussian``, zCDP turned
into (ε, δ)-DP with δ = :data:`GAUSSIAN_DELTA`), calibrated so that the whole release is ε-DP
when one user changes the released vector by at most ``max_contribution`` (its L1 norm for
Laplace; the L2 norm, never larger, for Gaussian). That bound is declared, not enforced: the
store does not know its users. Rounded counts are clamped at zero, monotonic sums too; a
histogram's count is the sum of its noisy buckets. Exponential histograms and summaries are not
released (counted as skipped).

A privacy budget per store and endpoint (total ε per :data:`BUDGET_DAYS` days) is kept in a
:class:`StateFile` under the store's upload state; an upload that would exceed it raises
:class:`BudgetExceeded` before anything is computed or sent. The spend is recorded before the
release is sent (a release that then fails to arrive is spent all the same).

OpenDP is imported lazily, when a release is made: never on the application's import path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WINDOW_SECONDS = 86_400  # one released point per series per UTC day
BUDGET_DAYS = 30
BUDGET_FILE = "budget.json"
GAUSSIAN_DELTA = 1e-6
MECHANISMS = ("laplace", "gaussian")
_NS = 1_000_000_000
_DELTA, _CUMULATIVE = 1, 2


class BudgetExceeded(Exception):
    """The upload would spend more than the budget left; nothing was computed or sent."""


@dataclass(frozen=True)
class DpOptions:
    epsilon: float
    max_contribution: float = 1.0
    budget: float = 10.0
    mechanism: str = "laplace"

    def __post_init__(self) -> None:
        for name in ("epsilon", "max_contribution", "budget"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 < value < math.inf):
                raise ValueError(f"{name} must be a number greater than 0, not {value!r}")
        if self.mechanism not in MECHANISMS:
            raise ValueError(f"mechanism must be one of {', '.join(MECHANISMS)}, not {self.mechanism!r}")


# -- the budget -----------------------------------------------------------------------------------
def budget_path(state_base: Path, endpoint: str) -> Path:
    """Where the privacy spent on ``endpoint`` is recorded (``otel-distro forget`` erases it with
    the store; ``upload --force`` does not)."""
    digest = hashlib.sha256(endpoint.rstrip("/").encode()).hexdigest()[:16]
    return state_base / "dp" / digest / BUDGET_FILE


class PrivacyBudget:
    """Total ε spent on one endpoint over the last :data:`BUDGET_DAYS` days, and the spending."""

    def __init__(self, path: Path, total: float) -> None:
        from otel_distro.runtime.state_file import StateFile

        self.file = StateFile(path)
        self.total = total

    @staticmethod
    def _recent(data: dict[str, Any], now: float) -> list[dict[str, Any]]:
        cutoff = now - BUDGET_DAYS * 86_400
        spends = data.get("spends")
        return [
            s
            for s in (spends if isinstance(spends, list) else [])
            if isinstance(s, dict)
            and isinstance(s.get("at"), int | float)
            and s["at"] > cutoff
            and isinstance(s.get("epsilon"), int | float)
        ]

    def spent(self, now: float | None = None) -> float:
        now = time.time() if now is None else now
        return float(sum(s["epsilon"] for s in self._recent(self.file.read(), now)))

    def check(self, epsilon: float, now: float | None = None) -> float:
        """The budget left after spending ``epsilon``; raises :class:`BudgetExceeded` if none."""
        return self._left(self.spent(now), epsilon)

    def _left(self, spent: float, epsilon: float) -> float:
        left = self.total - spent - epsilon
        if left < -1e-9:
            raise BudgetExceeded(
                f"privacy budget exceeded: this upload would spend ε={epsilon:g}, but {spent:g} of "
                f"the budget of {self.total:g} per {BUDGET_DAYS} days was spent on this endpoint "
                f"({max(self.total - spent, 0):g} left); nothing was sent (wait for older uploads to "
                "age out, lower --dp-epsilon, or raise upload.dp_budget)"
            )
        return max(left, 0.0)

    def spend(self, epsilon: float, delta: float = 0.0, now: float | None = None) -> float:
        """Record ``epsilon`` spent (checked and written under the lock); the budget left."""
        now = time.time() if now is None else now
        left: list[float] = []

        def change(current: dict[str, Any]) -> dict[str, Any]:
            recent = self._recent(current, now)
            left.append(self._left(sum(s["epsilon"] for s in recent), epsilon))
            entry: dict[str, Any] = {"at": now, "epsilon": epsilon}
            if delta:
                entry["delta"] = delta
            return {"spends": [*recent, entry], "budget": self.total}

        self.file.update(change)
        return left[0]


# -- the mechanisms -------------------------------------------------------------------------------
def _opendp() -> Any:
    import opendp.prelude as dp  # lazily: a few MB of native library, only when a release is made

    dp.enable_features("contrib")
    return dp


@dataclass
class Mechanism:
    """One OpenDP measurement over a vector of floats, calibrated to (``epsilon``, sensitivity)."""

    kind: str
    epsilon: float
    sensitivity: float
    scale: float = 0.0
    delta: float = 0.0
    _measurements: dict[int, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        dp = _opendp()
        if self.kind == "laplace":
            self.scale = self.sensitivity / self.epsilon
            privacy = self._make(dp, self.scale).map(self.sensitivity)
            if privacy > self.epsilon * (1 + 1e-9):
                raise ValueError(f"Laplace scale {self.scale} gives ε={privacy}, more than {self.epsilon}")
        else:
            self.delta = GAUSSIAN_DELTA
            self.scale = float(
                dp.binary_search_param(
                    lambda s: self._make(dp, s), d_in=self.sensitivity, d_out=(self.epsilon, self.delta)
                )
            )

    def _make(self, dp: Any, scale: float) -> Any:
        domain = dp.vector_domain(dp.atom_domain(T=float, nan=False))
        if self.kind == "laplace":
            return dp.m.make_laplace(domain, dp.l1_distance(T=float), scale=scale)
        gaussian = dp.m.make_gaussian(domain, dp.l2_distance(T=float), scale=scale)
        return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(gaussian), self.delta)

    @property
    def variance(self) -> float:
        """The variance of the noise added to each number."""
        return 2 * self.scale**2 if self.kind == "laplace" else self.scale**2

    def release(self, values: list[float]) -> list[float]:
        """``values`` with noise: one invocation of the measurement over the whole vector."""
        if not values:
            return []
        measurement = self._make(_opendp(), self.scale)
        return [float(v) for v in measurement([float(v) for v in values])]


# -- aggregation ----------------------------------------------------------------------------------
def _canon(attributes: Any) -> str:
    return json.dumps(attributes or [], sort_keys=True, separators=(",", ":"))


def _number(point: dict[str, Any]) -> float:
    if "asInt" in point:
        return float(int(point["asInt"]))
    return float(point.get("asDouble", 0.0) or 0.0)


@dataclass
class _Cell:
    """One series in one window: what is released for it."""

    resource: dict[str, Any]
    scope: dict[str, Any]
    metric: dict[str, Any]  # name, unit, description and the kind-specific fields
    kind: str  # sum, gauge, histogram
    attributes: list[Any]
    window: int
    values: list[float]  # sum: [total]; gauge: [total, points]; histogram: [sum, *buckets]


@dataclass
class Aggregate:
    cells: dict[tuple[Any, ...], _Cell] = field(default_factory=dict)
    points: int = 0  # raw points read
    skipped: int = 0  # points of kinds that are not released (exponential histograms, summaries)

    def vector(self) -> list[float]:
        return [v for cell in self.cells.values() for v in cell.values]


def _increments(
    points: list[dict[str, Any]], temporality: int, read: Callable[[dict[str, Any]], list[float]]
) -> Iterator[tuple[int, list[float]]]:
    """(time, values added) of each point; cumulative points become their increase over the
    point before them with the same start time (the first one counts from its start)."""
    if temporality != _CUMULATIVE:
        for point in points:
            yield int(point.get("timeUnixNano", 0) or 0), read(point)
        return
    by_start: dict[str, list[dict[str, Any]]] = {}
    for point in points:
        by_start.setdefault(str(point.get("startTimeUnixNano", "0")), []).append(point)
    for series in by_start.values():
        previous: list[float] | None = None
        for point in sorted(series, key=lambda p: int(p.get("timeUnixNano", 0) or 0)):
            values = read(point)
            if previous is None or len(previous) != len(values):
                yield int(point.get("timeUnixNano", 0) or 0), values
            else:
                yield (
                    int(point.get("timeUnixNano", 0) or 0),
                    [v - p for v, p in zip(values, previous, strict=True)],
                )
            previous = values


def _histogram_values(point: dict[str, Any]) -> list[float]:
    return [float(point.get("sum", 0.0) or 0.0), *(float(int(c)) for c in point.get("bucketCounts", []))]


def aggregate(records: Iterable[dict[str, Any]], window_seconds: int = WINDOW_SECONDS) -> Aggregate:
    """Stored metric export requests (OTLP/JSON) aggregated per series and window."""
    found: dict[
        tuple[Any, ...],
        tuple[dict[str, Any], dict[str, Any], dict[str, Any], str, list[Any], list[dict[str, Any]]],
    ] = {}
    result = Aggregate()
    for record in records:
        for rm in record.get("resourceMetrics") or []:
            resource = rm.get("resource") or {}
            for sm in rm.get("scopeMetrics") or []:
                scope = sm.get("scope") or {}
                for metric in sm.get("metrics") or []:
                    kind = next((k for k in ("sum", "gauge", "histogram") if k in metric), None)
                    if kind is None:
                        for other in ("exponentialHistogram", "summary"):
                            result.skipped += len((metric.get(other) or {}).get("dataPoints") or [])
                        continue
                    data = metric[kind] or {}
                    head = {k: metric[k] for k in ("name", "unit", "description") if metric.get(k)}
                    if kind == "sum":
                        head["isMonotonic"] = bool(data.get("isMonotonic", False))
                    temporality = int(data.get("aggregationTemporality", _CUMULATIVE) or _CUMULATIVE)
                    for point in data.get("dataPoints") or []:
                        result.points += 1
                        bounds = list(point.get("explicitBounds") or []) if kind == "histogram" else []
                        integer = kind == "sum" and "asInt" in point
                        key = (
                            _canon(resource.get("attributes")),
                            scope.get("name", ""),
                            scope.get("version", ""),
                            json.dumps(head, sort_keys=True),
                            kind,
                            _canon(point.get("attributes")),
                            tuple(bounds),
                            temporality,
                        )
                        if key not in found:
                            meta = {**head, "explicitBounds": bounds} if kind == "histogram" else dict(head)
                            meta["_int"] = integer
                            found[key] = (resource, scope, meta, kind, point.get("attributes") or [], [])
                        found[key][5].append(point)
    window_ns = window_seconds * _NS
    for key, (resource, scope, meta, kind, attributes, points) in found.items():
        temporality = key[-1]
        if kind == "histogram":
            steps: Iterable[tuple[int, list[float]]] = _increments(points, temporality, _histogram_values)
        elif kind == "sum":
            steps = _increments(points, temporality, lambda p: [_number(p)])
        else:
            steps = ((int(p.get("timeUnixNano", 0) or 0), [_number(p), 1.0]) for p in points)
        for at, values in steps:
            window = at // window_ns
            cell = result.cells.get((key, window))
            if cell is None:
                cell = result.cells[(key, window)] = _Cell(
                    resource, scope, meta, kind, attributes, window, [0.0] * len(values)
                )
            if len(cell.values) != len(values):
                continue  # a histogram whose buckets changed within the series: not comparable
            cell.values = [a + b for a, b in zip(cell.values, values, strict=True)]
    return result


# -- the release ----------------------------------------------------------------------------------
def _point(cell: _Cell, noisy: list[float], now_ns: int, window_ns: int) -> dict[str, Any]:
    start = cell.window * window_ns
    point: dict[str, Any] = {
        "startTimeUnixNano": str(start),
        "timeUnixNano": str(min(start + window_ns, max(now_ns, start))),
    }
    if cell.attributes:
        point["attributes"] = cell.attributes
    if cell.kind == "sum":
        value = noisy[0]
        if cell.metric.get("isMonotonic"):
            value = max(value, 0.0)
        if cell.metric.get("_int"):
            point["asInt"] = str(round(value))
        else:
            point["asDouble"] = value
    elif cell.kind == "gauge":
        point["asDouble"] = noisy[0] / max(noisy[1], 1.0)
    else:
        buckets = [max(round(v), 0) for v in noisy[1:]]
        point["count"] = str(sum(buckets))
        point["sum"] = noisy[0]
        point["bucketCounts"] = [str(b) for b in buckets]
        point["explicitBounds"] = cell.metric.get("explicitBounds", [])
    return point


def release(
    aggregate_: Aggregate,
    mechanism: Mechanism,
    now: float | None = None,
    window_seconds: int = WINDOW_SECONDS,
) -> list[dict[str, Any]]:
    """The noisy aggregates as OTLP/JSON metric export requests, one per resource."""
    cells = list(aggregate_.cells.values())
    noisy = mechanism.release(aggregate_.vector())
    now_ns = int((time.time() if now is None else now) * _NS)
    window_ns = window_seconds * _NS
    resources: dict[str, dict[str, Any]] = {}
    at = 0
    for cell in cells:
        values = noisy[at : at + len(cell.values)]
        at += len(cell.values)
        rkey = _canon(cell.resource.get("attributes"))
        rm = resources.setdefault(rkey, {"resource": cell.resource, "scopeMetrics": {}})
        skey = json.dumps(cell.scope, sort_keys=True)
        sm = rm["scopeMetrics"].setdefault(skey, {"scope": cell.scope, "metrics": {}})
        mkey = json.dumps(cell.metric, sort_keys=True) + cell.kind
        metric = sm["metrics"].get(mkey)
        if metric is None:
            metric = {k: cell.metric[k] for k in ("name", "unit", "description") if k in cell.metric}
            body: dict[str, Any] = {"dataPoints": []}
            if cell.kind != "gauge":
                body["aggregationTemporality"] = _DELTA
            if cell.kind == "sum":
                body["isMonotonic"] = bool(cell.metric.get("isMonotonic"))
            metric[cell.kind] = body
            sm["metrics"][mkey] = metric
        metric[cell.kind]["dataPoints"].append(_point(cell, values, now_ns, window_ns))
    return [
        {
            "resourceMetrics": [
                {
                    "resource": rm["resource"],
                    "scopeMetrics": [
                        {"scope": sm["scope"], "metrics": list(sm["metrics"].values())}
                        for sm in rm["scopeMetrics"].values()
                    ],
                }
            ]
        }
        for rm in resources.values()
    ]


def stored_metrics(store_dir: Path, since: str | None = None) -> Iterator[dict[str, Any]]:
    """Every stored metrics export request, oldest file first (from day ``since`` on)."""
    from exporters.store.files import JsonlStore, read_records

    first = dt.date.fromisoformat(since) if since else None
    for path in JsonlStore(store_dir).files("metrics", first):
        yield from read_records(path)
