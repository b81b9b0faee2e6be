"""``/metrics``: the store's metrics and the distro's own counters in the Prometheus text format.

Metric lines of every process that writes the store are read as the files grow. For each
series (metric, service, attributes) the latest point of each process (``service.instance.id``)
is kept and the processes are added up, so a counter stays monotonic when a process restarts
(the new process's count adds to the old one's last). Delta points are summed; gauges show the
latest value. OTel names become Prometheus names as the OTel spec says (``agent.run.duration``
in seconds: ``agent_run_duration_seconds``; monotonic sums get ``_total``).
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from exporters.store import sealed
from exporters.store.decode import decode_attributes
from exporters.store.files import JsonlStore

_UNITS = {"s": "seconds", "ms": "milliseconds", "By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes"}
_INVALID = re.compile(r"[^a-zA-Z0-9_]")
CUMULATIVE, DELTA = 2, 1


def metric_name(name: str, unit: str, kind: str, monotonic: bool) -> str:
    base = _INVALID.sub("_", name)
    unit = re.sub(r"\{[^}]*\}", "", unit or "")
    suffix = _UNITS.get(unit, _INVALID.sub("_", unit) if unit and unit != "1" else "")
    if suffix and not base.endswith(suffix):
        base += "_" + suffix
    if kind == "sum" and monotonic:
        base += "_total"
    return re.sub(r"^([0-9])", r"_\1", base)


def label_name(key: str) -> str:
    return re.sub(r"^([0-9])", r"_\1", _INVALID.sub("_", key))


def _escape(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


@dataclass
class _Family:
    name: str
    kind: str  # "counter", "gauge" or "histogram"
    help: str
    # (labels, instance) -> value: (time, number) or (time, bounds, counts, sum, count)
    points: dict[tuple[tuple[tuple[str, str], ...], str], Any] = field(default_factory=dict)


class StoreMetrics:
    """The store's metric points, kept up to date from the files' growth."""

    def __init__(self, store: JsonlStore) -> None:
        self.store = store
        self.families: dict[str, _Family] = {}
        self._offsets: dict[Path, tuple[int, int]] = {}  # path -> (inode, offset)
        self._lock = threading.Lock()

    def refresh(self) -> None:
        with self._lock:
            for path in self.store.files("metrics"):
                try:
                    info = path.stat()
                    inode, offset = self._offsets.get(path, (info.st_ino, 0))
                    if inode != info.st_ino or info.st_size < offset:
                        offset = 0
                    if info.st_size == offset:
                        continue
                    with path.open("rb") as handle:
                        handle.seek(offset)
                        data = handle.read(info.st_size - offset)
                except OSError:
                    continue
                end = data.rfind(b"\n") + 1
                at = offset
                for raw in data[:end].splitlines(keepends=True):
                    line = sealed.plain_line(path, at, raw)  # an encrypted store's lines opened
                    at += len(raw)
                    if line is not None and line.strip():
                        try:
                            record = orjson.loads(line)
                        except orjson.JSONDecodeError:
                            continue
                        if isinstance(record, dict):
                            self._add(record)
                self._offsets[path] = (info.st_ino, offset + end)

    def _add(self, record: dict[str, Any]) -> None:
        try:
            for resource_metrics in record.get("resourceMetrics", []):
                resource = decode_attributes(resource_metrics.get("resource", {}).get("attributes"))
                service = str(resource.get("service.name", "unknown_service"))
                instance = str(resource.get("service.instance.id", ""))
                for scope_metrics in resource_metrics.get("scopeMetrics", []):
                    for metric in scope_metrics.get("metrics", []):
                        self._add_metric(metric, service, instance)
        except (AttributeError, TypeError, ValueError, KeyError):
            return

    def _add_metric(self, metric: dict[str, Any], service: str, instance: str) -> None:
        for kind in ("sum", "gauge", "histogram"):
            if kind in metric:
                data = metric[kind]
                break
        else:
            return  # exponential histograms and summaries are not shown
        monotonic = bool(data.get("isMonotonic")) if kind == "sum" else False
        name = metric_name(str(metric.get("name", "")), str(metric.get("unit", "")), kind, monotonic)
        prom_kind = "histogram" if kind == "histogram" else "counter" if monotonic else "gauge"
        family = self.families.get(name)
        if family is None:
            family = self.families[name] = _Family(name, prom_kind, str(metric.get("description", "")))
        if family.kind != prom_kind:
            return
        delta = int(data.get("aggregationTemporality", CUMULATIVE)) == DELTA
        for point in data.get("dataPoints", []):
            attrs = decode_attributes(point.get("attributes"))
            labels = tuple(sorted({label_name(k): str(v) for k, v in attrs.items()}.items()))
            labels = (("service_name", service), *labels)
            stamp = int(point.get("timeUnixNano", 0))
            key = (labels, instance)
            old = family.points.get(key)
            value: Any
            if prom_kind == "histogram":
                bounds = tuple(float(b) for b in point.get("explicitBounds", []))
                counts = [int(c) for c in point.get("bucketCounts", [])]
                value = (stamp, bounds, counts, float(point.get("sum", 0.0)), int(point.get("count", 0)))
                if delta and old is not None and old[1] == bounds:
                    value = (
                        max(stamp, old[0]), bounds, [a + b for a, b in zip(old[2], counts, strict=False)],
                        old[3] + value[3], old[4] + value[4],
                    )  # fmt: skip
                elif old is not None and old[0] > stamp:
                    continue
            else:
                number = (
                    float(point["asDouble"]) if "asDouble" in point else float(int(point.get("asInt", 0)))
                )
                if delta and kind == "sum" and old is not None:
                    value = (max(stamp, old[0]), old[1] + number)
                elif old is not None and old[0] > stamp:
                    continue
                else:
                    value = (stamp, number)
            family.points[key] = value

    def exposition(self) -> list[str]:
        lines: list[str] = []
        with self._lock:
            for name in sorted(self.families):
                family = self.families[name]
                merged: dict[tuple[tuple[str, str], ...], Any] = {}
                for (labels, _instance), value in family.points.items():
                    old = merged.get(labels)
                    if family.kind == "gauge":
                        if old is None or value[0] >= old[0]:
                            merged[labels] = value
                    elif family.kind == "counter":
                        merged[labels] = (0, (old[1] if old else 0.0) + value[1])
                    elif old is None:
                        merged[labels] = (value[0], value[1], list(value[2]), value[3], value[4])
                    elif old[1] == value[1]:
                        old[2][:] = [a + b for a, b in zip(old[2], value[2], strict=False)]
                        merged[labels] = (old[0], old[1], old[2], old[3] + value[3], old[4] + value[4])
                lines.append(f"# HELP {name} {_escape(family.help or name)}")
                lines.append(f"# TYPE {name} {family.kind}")
                for labels in sorted(merged):
                    value = merged[labels]
                    if family.kind == "histogram":
                        _, bounds, counts, total, count = value
                        running = 0
                        for bound, bucket in zip([*bounds, math.inf], counts, strict=False):
                            running += bucket
                            lines.append(f"{name}_bucket{_labels(labels, ('le', _number(bound)))} {running}")
                        lines.append(f"{name}_sum{_labels(labels)} {_number(total)}")
                        lines.append(f"{name}_count{_labels(labels)} {count}")
                    else:
                        lines.append(f"{name}{_labels(labels)} {_number(value[1])}")
        return lines


def _labels(labels: tuple[tuple[str, str], ...], *extra: tuple[str, str]) -> str:
    items = [*labels, *extra]
    if not items:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in items) + "}"


def family(name: str, kind: str, help_text: str, samples: list[tuple[dict[str, str], float]]) -> list[str]:
    """One family of the distro's own metrics in the text format."""
    lines = [f"# HELP {name} {_escape(help_text)}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        lines.append(f"{name}{_labels(tuple(sorted(labels.items())))} {_number(value)}")
    return lines
