"""The upload exporter: ships the local store's traces, metrics and logs to any OTLP/HTTP endpoint.

``{endpoint}/v1/traces``, ``/v1/metrics`` and ``/v1/logs`` (the standard OTLP base-URL rule),
protobuf, gzip, through :class:`HttpDelivery` (TLS verified, proxies from the environment),
retried per the OTLP rules (connection errors, 429, 502, 503, 504, with backoff and
``Retry-After``) for a bounded time; other answers are reported, and a request the endpoint
rejects (400: malformed) is not sent again. Lines are grouped into requests of at most
:data:`MAX_REQUEST_BYTES`.

Only the signals asked for are sent. An endpoint that answers 404, 405 or 501 on a signal's path
does not take that signal (Jaeger, Tempo and Phoenix take traces only): the signal is skipped, its
data kept, and the endpoint's answer remembered (``not_taken.json`` in the state directory), so
later runs skip it without asking; ``reset`` (``--force``) asks again. An endpoint that takes
none of the signals asked for is an error (most likely a wrong URL), and nothing is remembered.

What was sent is recorded per endpoint, per file and offset (a :class:`StoreTail` state file
per signal under ``state_dir``), after each acknowledged request: a rerun, or a restart after
a crash, sends only what is new (a crash between an acknowledgement and its record resends
that one request). One process uploads a store to an endpoint at a time. ``force`` starts
from the beginning.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exporters.http_delivery import EXIT_SECONDS, HttpDelivery, Outcome, Result, post_split, refusal_reason
from exporters.otlp_proto import records_in, split_request, to_protobuf, to_protobuf_kept
from exporters.store.files import ReadProblems
from exporters.store.follow import StoreSegment, StoreTail
from otel_distro.runtime.errors import caught
from otel_distro.runtime.say_once import SayOnce
from otel_distro.runtime.state_file import StateFile
from otel_distro.runtime.urls import shown_url
from otel_distro.runtime.worker import Worker

_logger = logging.getLogger(f"otel_distro.{__name__}")

SIGNALS = ("traces", "metrics", "logs")
CONTENT_TYPE = "application/x-protobuf"
MAX_REQUEST_BYTES = 4 * 1024 * 1024  # protobuf before gzip; collectors accept far more by default
READ_BYTES = 2 * 1024 * 1024  # store bytes read per step
RETRY_SECONDS = 60.0
NOT_TAKEN_STATUS = frozenset({404, 405, 501})  # "no such path / method here": the signal is not taken
NOT_TAKEN_FILE = "not_taken.json"


@dataclass
class SignalReport:
    records: int = 0  # spans, metrics or log records acknowledged by the endpoint
    requests: int = 0
    bytes: int = 0  # protobuf bytes acknowledged (before gzip)
    rejected: int = 0  # records in requests the endpoint refused for good
    too_large: int = 0  # records in a single store line the endpoint found too large (413)
    corrupt_lines: int = 0  # store lines that are not OTLP/JSON (a writer killed mid-line)
    not_taken: str | None = None  # the endpoint does not take this signal: its answer (then skipped)


@dataclass
class UploadReport:
    endpoint: str
    signals: dict[str, SignalReport] = field(default_factory=lambda: {s: SignalReport() for s in SIGNALS})
    error: str | None = None  # why the upload stopped early (data kept for the next run)
    busy: bool = False  # another process was uploading this store to this endpoint
    unreadable: dict[str, str] = field(default_factory=dict)  # store files skipped: path -> why
    dp: dict[str, Any] | None = None  # differentially private metrics: what was released and spent
    budget_exceeded: bool = False  # the privacy budget refused the upload: nothing was sent

    @property
    def complete(self) -> bool:
        refused = any(r.rejected or r.too_large for r in self.signals.values())
        return self.error is None and not self.busy and not refused and not self.unreadable


Progress = Callable[[str, int], None]  # (signal, store bytes done)


def state_base(store_dir: Path) -> Path:
    """Where a store's upload records live (erased with the store by ``otel-distro forget``)."""
    return store_dir / "upload"


def state_dir_for(base: Path, endpoint: str, destination: str = "otlp") -> Path:
    """Where what was sent to ``endpoint`` is recorded (one directory per endpoint, and per
    destination kind: spans enriched for Phoenix are not those sent as they are)."""
    key = endpoint.rstrip("/") if destination == "otlp" else f"{destination}:{endpoint.rstrip('/')}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return base / digest


def parse_signals(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """Signals named in ``traces,metrics,logs`` (any order, any subset, at least one), in store
    order; raises ``ValueError`` naming what is accepted."""
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    unknown = [name for name in names if name not in SIGNALS]
    if unknown or not names:
        raise ValueError(
            f"{','.join(unknown) or 'nothing'}: accepted: a comma-separated subset of traces,metrics,logs"
        )
    return tuple(signal for signal in SIGNALS if signal in names)


@dataclass
class _Item:
    body: bytes
    records: int


def _request(items: list[_Item], start: int) -> list[_Item]:
    """Items from ``start`` that fit one request (at least one, however large)."""
    batch = [items[start]]
    size = len(batch[0].body)
    for item in items[start + 1 :]:
        if size + len(item.body) > MAX_REQUEST_BYTES:
            break
        batch.append(item)
        size += len(item.body)
    return batch


class StoreUploader:
    """Sends what the store holds beyond the recorded positions (see the module docstring)."""

    def __init__(
        self,
        store_dir: Path,
        state_base: Path,
        endpoint: str,
        headers: Mapping[str, str] | None = None,
        *,
        timeout: float = 10.0,
        retry_seconds: float = RETRY_SECONDS,
        since: str | None = None,
        signals: tuple[str, ...] = SIGNALS,
        destination: str = "otlp",
        enrich: Callable[[str, dict[str, Any]], None] | None = None,
        dp: Any = None,
        redact: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.store_dir = store_dir
        self.dp = dp  # exporters.dp_metrics.DpOptions: metrics go as noisy aggregates
        self.endpoint = endpoint.rstrip("/")
        self.shown_endpoint = shown_url(self.endpoint)  # as messages and reports name it
        self.destination = destination
        self.state_dir = state_dir_for(state_base, self.endpoint, destination)
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self.since = since
        self.signals = signals
        self.enrich = enrich  # changes a store line (signal, OTLP/JSON) in place before it is sent
        # a store line (OTLP/JSON) redacted once more before it is sent: it may have been written
        # by a process with redaction off (None: sent as written)
        self.redact = redact
        self._deliveries: dict[str, HttpDelivery] = {}
        self._stopping = threading.Event()
        self._exiting = False

    def _tail(self, signal: str, state_dir: Path | None = None) -> StoreTail:
        def parse(data: dict[str, Any], problems: ReadProblems) -> list[_Item]:  # sent whole, as written
            records = records_in(signal, data)
            if self.redact is not None:
                data = self.redact(data)
            if self.enrich is not None:
                self.enrich(signal, data)
            body, skipped = to_protobuf_kept(signal, data)  # a malformed record costs only itself
            problems.malformed += skipped
            return [_Item(body, records - skipped)] if records > skipped else []

        return StoreTail(
            self.store_dir / signal,
            (state_dir or self.state_dir) / f"{signal}.json",
            None,
            parse,
            read_bytes=READ_BYTES,
            since=self.since,
        )

    def _delivery(self, signal: str) -> HttpDelivery:
        delivery = self._deliveries.get(signal)
        if delivery is None:
            delivery = self._deliveries[signal] = HttpDelivery(
                f"{self.endpoint}/v1/{signal}", self.headers, self.timeout
            )
            if self._exiting:
                delivery.begin_exit()
        return delivery

    def reset(self) -> None:
        """Forget what was sent to this endpoint, and which signals it does not take: the next
        run sends everything again."""
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def _not_taken_file(self) -> StateFile:
        return StateFile(self.state_dir / NOT_TAKEN_FILE)

    def not_taken(self) -> dict[str, str]:
        """The signals this endpoint answered it does not take (signal -> its answer)."""
        return {str(k): str(v) for k, v in self._not_taken_file().read().items() if k in SIGNALS}

    def _remember_not_taken(self, found: dict[str, str], keep: bool) -> None:
        def change(current: dict[str, Any]) -> dict[str, Any]:
            if keep:
                return {**current, **found}
            return {k: v for k, v in current.items() if k not in found}

        try:
            self._not_taken_file().update(change)
        except OSError as exc:  # the signal is asked again next time: no harm
            _logger.debug(
                "otel-distro: could not record the signals %s does not take: %r", self.shown_endpoint, exc
            )

    def stop(self) -> None:
        """Make a running upload stop after its current request."""
        self._stopping.set()

    def run(self, progress: Progress | None = None, dry_run: bool = False) -> UploadReport:
        """Send every signal's new records; never raises (failures are in the report)."""
        report = UploadReport(self.shown_endpoint, {signal: SignalReport() for signal in self.signals})
        scratch: Path | None = None
        found: dict[str, str] = {}  # signals found not taken in this run
        try:
            known = self.not_taken()
            if dry_run:  # a scratch copy of the record: everything is read, counted, nothing sent
                import tempfile

                scratch = Path(tempfile.mkdtemp(prefix="otel-distro-upload-"))
                if self.state_dir.is_dir():
                    shutil.copytree(self.state_dir, scratch, dirs_exist_ok=True)
            if self.dp is not None and "metrics" in self.signals:
                from exporters.dp_metrics import BudgetExceeded

                try:
                    self._dp_metrics(report, known, dry_run)
                except BudgetExceeded as exc:  # refused before anything was sent
                    report.error = str(exc)
                    report.budget_exceeded = True
            for signal in self.signals:
                if report.error is not None or report.busy or self._stopping.is_set():
                    break
                if signal == "metrics" and self.dp is not None:
                    continue
                if signal in known:
                    report.signals[signal].not_taken = known[signal]
                    continue
                self._signal(signal, self._tail(signal, scratch), report, progress, dry_run)
                if report.signals[signal].not_taken is not None:
                    found[signal] = report.signals[signal].not_taken or ""
        except Exception as exc:  # noqa: BLE001 - an upload reports, it never raises
            caught("uploading the store", exc)  # a bug of ours: raised under the test suite
            report.error = f"{type(exc).__name__}: {exc}"
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        self._settle_not_taken(report, found)
        return report

    def _dp_metrics(self, report: UploadReport, known: dict[str, str], dry_run: bool) -> None:
        """Metrics as noisy aggregates (see :mod:`exporters.dp_metrics`); raises
        ``BudgetExceeded`` before anything is sent when the privacy budget would be exceeded."""
        from exporters import dp_metrics

        options = self.dp
        counts = report.signals["metrics"]
        if "metrics" in known:
            counts.not_taken = known["metrics"]
            return
        budget = dp_metrics.PrivacyBudget(
            dp_metrics.budget_path(self.state_dir.parent, self.endpoint), options.budget
        )
        spent = budget.spent()
        budget.check(options.epsilon)
        found = dp_metrics.aggregate(dp_metrics.stored_metrics(self.store_dir, self.since))
        info: dict[str, Any] = {
            "epsilon": options.epsilon,
            "mechanism": options.mechanism,
            "max_contribution": options.max_contribution,
            "budget": options.budget,
            "spent_before": spent,
            "left": options.budget - spent,
            "points_read": found.points,
            "points_skipped": found.skipped,
            "released": len(found.cells),
        }
        report.dp = info
        if not found.cells or dry_run:  # nothing to release, or only counting: nothing spent
            counts.records = len(found.cells) if dry_run else 0
            return
        mechanism = dp_metrics.Mechanism(options.mechanism, options.epsilon, options.max_contribution)
        requests = dp_metrics.release(found, mechanism)
        info["noise_scale"] = mechanism.scale
        if mechanism.delta:
            info["delta"] = mechanism.delta
        info["left"] = budget.spend(options.epsilon, mechanism.delta)
        for data in requests:
            records = records_in("metrics", data)
            body = to_protobuf("metrics", data)
            result = self._post("metrics", body)
            if result.outcome is Outcome.DELIVERED:
                counts.records += records
                counts.requests += 1
                counts.bytes += len(body)
            elif result.status in NOT_TAKEN_STATUS:
                counts.not_taken = f"HTTP {result.status} on /v1/metrics"
                return
            else:
                report.error = (
                    f"metrics: {result.error or result.outcome.value} (the privacy spent stays spent)"
                )
                return

    def _settle_not_taken(self, report: UploadReport, found: dict[str, str]) -> None:
        """Remember what the endpoint does not take, unless it takes nothing asked (a wrong URL)."""
        if not found:
            return
        if all(counts.not_taken is not None for counts in report.signals.values()):
            self._remember_not_taken(dict.fromkeys(report.signals, ""), keep=False)
            answers = "; ".join(f"{s}: {c.not_taken}" for s, c in report.signals.items())
            report.error = report.error or (
                f"{self.shown_endpoint} takes none of {', '.join(report.signals)} ({answers}); is the URL "
                "its OTLP/HTTP base URL?"
            )
            return
        self._remember_not_taken(found, keep=True)

    def pending_bytes(self) -> dict[str, int]:
        """Store bytes not yet sent to this endpoint, per signal (for a progress bar)."""
        return {signal: self._tail(signal).backlog() for signal in self.signals}

    def _signal(
        self, signal: str, tail: StoreTail, report: UploadReport, progress: Progress | None, dry_run: bool
    ) -> None:
        counts = report.signals[signal]
        while not self._stopping.is_set():
            segment = tail.claim()
            report.unreadable.update(tail.unreadable)
            if segment is None:
                report.busy = tail.busy
                return
            counts.corrupt_lines += segment.corrupt
            if not self._segment(signal, tail, segment, counts, progress, dry_run, report):
                return

    def _segment(
        self,
        signal: str,
        tail: StoreTail,
        segment: StoreSegment,
        counts: SignalReport,
        progress: Progress | None,
        dry_run: bool,
        report: UploadReport,
    ) -> bool:
        """Send one segment request by request; False when the upload must stop (data kept)."""
        items: list[_Item] = segment.lines
        start_offset = segment.positions[0][0] if segment.positions else segment.end
        sent = 0
        try:
            while sent < len(items):
                batch = [items[sent]]
                size = len(batch[0].body)
                while (
                    sent + len(batch) < len(items)
                    and size + len(items[sent + len(batch)].body) <= MAX_REQUEST_BYTES
                ):
                    batch.append(items[sent + len(batch)])
                    size += len(batch[-1].body)
                split = post_split(
                    len(batch), functools.partial(self._post_items, signal, batch, counts, dry_run)
                )
                for start, end, result in split.refused:  # sending them again cannot help: reported
                    if (
                        end - start == 1
                        and refusal_reason(result) == "too_large"
                        and batch[start].records > 1
                    ):
                        # one store line too large: its records one by one (each still too large
                        # is refused); an answer that keeps the data keeps the whole line
                        kept = self._record_by_record(signal, batch[start], counts, dry_run)
                        if kept is not None:
                            split.failure, split.stopped_at = kept, start
                            break
                        continue
                    self._refused(signal, sum(item.records for item in batch[start:end]), result, counts)
                if split.failure is not None:
                    result = split.failure
                    if result.status in NOT_TAKEN_STATUS:  # the endpoint does not take this signal
                        counts.not_taken = f"HTTP {result.status} on /v1/{signal}"
                    else:
                        report.error = f"{signal}: {result.error or result.outcome.value}"
                    tail.keep(segment, items[sent + split.stopped_at :])
                    return False
                sent += len(batch)
                if sent < len(items):
                    tail.advance(segment, items[sent:])
                    if progress is not None:
                        progress(signal, segment.positions[sent][0] - start_offset)
                    if self._stopping.is_set():
                        tail.release(segment)
                        return False
            if progress is not None:
                progress(signal, segment.end - start_offset)
            tail.done(segment)
            return not self._stopping.is_set()
        except BaseException:
            tail.release(segment)
            raise

    def _record_by_record(
        self, signal: str, item: _Item, counts: SignalReport, dry_run: bool
    ) -> Result | None:
        """Send a line the endpoint found too large as requests of its records (halved down to
        one record, as lines are); the answer that stopped it where the data is kept, else None."""
        pieces = [_Item(body, 1) for body in split_request(signal, item.body)]
        split = post_split(len(pieces), functools.partial(self._post_items, signal, pieces, counts, dry_run))
        for start, end, result in split.refused:
            if start < split.stopped_at:
                self._refused(signal, end - start, result, counts)
        return split.failure

    def _refused(self, signal: str, records: int, result: Result, counts: SignalReport) -> None:
        """Records the endpoint refused for good: counted by reason and warned."""
        if refusal_reason(result) == "too_large":
            counts.too_large += records
        else:
            counts.rejected += records
        _logger.warning(
            "otel-distro: upload of %d %s to %s refused (%s); not sent again",
            records,
            signal,
            self.shown_endpoint,
            result.error,
        )

    def _post_items(
        self, signal: str, batch: list[_Item], counts: SignalReport, dry_run: bool, start: int, end: int
    ) -> Result:
        """One request of ``batch[start:end]`` (counted when acknowledged)."""
        items = batch[start:end]
        body = b"".join(item.body for item in items)
        result = Result(Outcome.DELIVERED) if dry_run else self._post(signal, body)
        if result.outcome is Outcome.DELIVERED:
            counts.records += sum(item.records for item in items)
            counts.requests += 1
            counts.bytes += len(body)
        return result

    def _post(self, signal: str, body: bytes) -> Result:
        result = self._delivery(signal).send(body, CONTENT_TYPE, self.retry_seconds, self._stopping)
        if result.status in NOT_TAKEN_STATUS:  # kept, not refused: it stops this signal (see run)
            return Result(Outcome.RETRY, result.status, None, result.error)
        return result

    def begin_exit(self) -> None:
        """The process is exiting: an endpoint that does not answer gets one short try."""
        self._exiting = True
        for delivery in self._deliveries.values():
            delivery.begin_exit()

    def close(self) -> None:
        for delivery in self._deliveries.values():
            delivery.close()
        self._deliveries.clear()


class BackgroundUploader:
    """Runs a :class:`StoreUploader` every ``interval`` seconds on a daemon thread (opt-in upload).

    A failed pass leaves the data in the store and the record where it was; the next pass
    resumes. At shutdown one last pass runs with a short retry budget, after the store flushed.
    """

    def __init__(self, uploader: StoreUploader, interval: float = 60.0, final_seconds: float = 5.0) -> None:
        self.uploader = uploader
        self.interval = interval
        self.final_seconds = final_seconds
        self.last: UploadReport | None = None
        self.refused = 0  # records the endpoint refused for good, over every pass (not sent again)
        self.too_large = 0  # records in store lines too large for the endpoint (not sent again)
        self.malformed = 0  # store records not OTLP/JSON, left out of what is sent (counted as corrupt)
        # a paused upload (said again after a pass that worked), a signal skipped
        self._say = SayOnce(_logger)
        self._worker = Worker("upload", self._pass, interval)  # a fresh thread in a forked child

    def _pass(self) -> None:
        report = self.uploader.run()
        self._count(report)
        for signal, counts in report.signals.items():
            if counts.not_taken is not None:
                self._say(
                    ("skipped", signal),
                    "otel-distro: %s does not take %s (%s); %s are not uploaded to it",
                    self.uploader.shown_endpoint,
                    signal,
                    counts.not_taken or "answered before",
                    signal,
                )
        if report.error:
            self._say(
                "paused",
                "otel-distro: upload to %s paused (%s); the store keeps the data and the next pass "
                "resumes (further failures are not logged)",
                self.uploader.shown_endpoint,
                report.error,
            )
        elif report.error is None:
            self._say.again("paused")

    def _count(self, report: UploadReport) -> None:
        self.last = report
        self.refused += sum(counts.rejected for counts in report.signals.values())
        self.too_large += sum(counts.too_large for counts in report.signals.values())
        self.malformed += sum(counts.corrupt_lines for counts in report.signals.values())

    def drop_counts(self) -> dict[str, int]:
        """Records dropped so far, by reason (for the drop ledger)."""
        return {
            "upload_refused": self.refused,
            "upload_too_large": self.too_large,
            "upload_malformed": self.malformed,  # store records (or torn lines) not OTLP/JSON: not sent
        }

    def _stop_passes(self, seconds: float) -> bool:
        """Stop the passes; True if none is running any more after waiting up to ``seconds``."""
        self.uploader.stop()
        return self._worker.stop(seconds)

    def stop(self) -> None:
        """Stop the passes without a last one (the upload was turned off)."""
        self._stop_passes(self.final_seconds)
        self.uploader.close()

    def shutdown(self) -> None:
        """Stop the passes, then run a last one with a short retry budget.

        The process is exiting: a pass still running after :data:`EXIT_SECONDS` is left to die
        with it (what it did not send stays in the store), and an endpoint that does not answer
        gets one short try.
        """
        self.uploader.begin_exit()
        if not self._stop_passes(EXIT_SECONDS):
            self.uploader.close()
            return
        final = StoreUploader(
            self.uploader.store_dir,
            self.uploader.state_dir.parent,
            self.uploader.shown_endpoint,
            self.uploader.headers,
            timeout=min(self.uploader.timeout, 2.0),
            retry_seconds=0,
            since=self.uploader.since,
            signals=self.uploader.signals,
            destination=self.uploader.destination,
            enrich=self.uploader.enrich,
            dp=self.uploader.dp,
        )
        final.begin_exit()
        try:
            self._count(final.run())
        finally:
            final.close()
            self.uploader.close()
