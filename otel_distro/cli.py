"""The ``otel-distro`` command line over the local store: stats, trace, purge, upload, compliance,
forget, enable and config."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from exporters.store.decode import decode_attributes
from exporters.store.files import JsonlStore, ReadProblems
from exporters.store.query import (
    ERROR_CODE,
    find_trace,
    iter_spans,
    latest_trace_id,
    parse_duration,
    span_stats,
    trace_tree,
)
from otel_distro import settings as settings_module


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def _report_problems(problems: ReadProblems) -> bool:
    """Say on stderr what the store's readers passed over; True if the answer is wrong for it
    (a file could not be read)."""
    for where in problems.unreadable:
        click.echo(f"could not read {where}: the answer leaves it out", err=True)
    if problems.malformed:
        click.echo(f"skipped {problems.malformed} malformed store record(s)", err=True)
    return bool(problems.unreadable)


def _duration(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


MAX_WAIT_SECONDS = 3600.0


def _wait_seconds(_ctx: click.Context, _param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not 0 <= value <= MAX_WAIT_SECONDS:  # also refuses nan
        raise click.BadParameter(f"{value:g} is not a number of seconds from 0 to {MAX_WAIT_SECONDS:g}")
    return value


class _Context:
    def __init__(self, base_dir: Path | None) -> None:
        self.resolution = settings_module.resolve()
        self.settings = self.resolution.settings
        self.base_dir = base_dir or self.settings.store_dir

    def store(self) -> JsonlStore:
        return JsonlStore(self.base_dir, self.settings.retention_days, self.settings.retention)

    def conversation_log(self) -> dict[str, Any] | None:
        """The conversation-log exporter's state, if it is configured or has left a cache."""
        from exporters.conversation_log import POSITION_FILE, STATE_FILE
        from exporters.conversation_records import stored_snapshots
        from exporters.spill_cache import SpillCache
        from exporters.store.follow import StoreTail

        directory = self.settings.cache_path or self.base_dir / "cache" / "conversation_log"
        if not self.settings.endpoint and not directory.is_dir():
            return None
        records, size = SpillCache(directory, 0, 1).pending()
        follows_store = (directory / POSITION_FILE).exists()
        if follows_store:  # the exporter follows the store: what waits is the store past its position
            tail = StoreTail(self.base_dir / "traces", directory / POSITION_FILE, 0, stored_snapshots)
            spans, waiting = tail.pending()
            records, size = records + spans, size + waiting
        try:
            state = json.loads((directory / STATE_FILE).read_text())
        except (OSError, ValueError):
            state = {}
        return {
            "endpoint": self.settings.endpoint,
            "cache": str(directory),
            "follows_store": follows_store,
            "cached_spans": records,
            "cached_bytes": size,
            **state,
        }


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--base-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Store root (default: TELEMETRY_BASE_DIR, telemetry.toml, or the platform data dir).",
)
@click.version_option(package_name="otel-distro")
@click.pass_context
def main(ctx: click.Context, base_dir: Path | None) -> None:
    """Inspect and manage the local otel-distro telemetry store."""
    ctx.obj = _Context(base_dir)


@main.command()
@click.option(
    "--since", default="24h", show_default=True, callback=_duration, help="Window, e.g. 30m, 24h, 7d."
)
@click.option("--top", default=10, show_default=True, help="How many span names to list.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def stats(obj: _Context, since: dt.timedelta, top: int, as_json: bool) -> None:
    """Span count, error rate, p50/p95 duration, top span names and GenAI token usage."""
    result = span_stats(obj.store(), since, top=top)
    conversation_log = obj.conversation_log()
    dropped = _dropped(obj.base_dir, conversation_log)
    failed = _report_problems(result.problems)
    if as_json:
        _echo_json(
            {
                "store": str(obj.base_dir),
                **result.as_dict(),
                "dropped": dropped,
                "dropped_total": sum(dropped.values()),
                "conversation_log": conversation_log,
            }
        )
        if failed:
            sys.exit(1)
        return
    click.echo(f"store:       {obj.base_dir}")
    click.echo(f"since:       {result.since}")
    click.echo(f"spans:       {result.spans} in {result.traces} traces")
    click.echo(f"errors:      {result.errors} ({result.error_rate:.1%})")
    click.echo(f"duration:    p50 {result.p50_ms:.1f} ms, p95 {result.p95_ms:.1f} ms")
    click.echo(f"log records: {result.log_records} ({result.log_errors} at ERROR or above)")
    if result.services:
        click.echo(
            "services:    " + ", ".join(f"{name} ({count})" for name, count in result.services.items())
        )
    if result.top_names:
        click.echo("top spans:")
        width = max(len(name) for name, _ in result.top_names)
        for name, count in result.top_names:
            click.echo(f"  {name.ljust(width)}  {count}")
    if result.tokens:
        click.echo("tokens:")
        for key, total in result.tokens.items():
            click.echo(f"  {key}: {total}")
    if result.redacted:
        click.echo(
            "redacted:    " + ", ".join(f"{entity} {count}" for entity, count in result.redacted.items())
        )
    if conversation_log is not None:
        _echo_conversation_log(conversation_log)
    _echo_dropped(dropped)
    if failed:
        sys.exit(1)


# The conversation log records its own drops in its state file; shown with the others.
_CONVERSATION_LOG_DROPS = {
    "rejected_records": "conversation_log_refused",
    "too_large_records": "conversation_log_too_large",
    "dropped_overflow": "conversation_log_cache_full",
}


def _dropped(base_dir: Path, conversation_log: dict[str, Any] | None) -> dict[str, int]:
    """Every record dropped in this store, by reason, all processes added up, since it was made."""
    from otel_distro.drop_ledger import read_drops

    dropped = read_drops(base_dir)
    for key, reason in _CONVERSATION_LOG_DROPS.items():
        count = (conversation_log or {}).get(key)
        if isinstance(count, int) and count > 0:
            dropped[reason] = dropped.get(reason, 0) + count
    return dict(sorted(dropped.items()))


def _echo_dropped(dropped: dict[str, int]) -> None:
    from otel_distro.drop_ledger import describe

    if not dropped:
        click.echo("dropped:     none")
        return
    click.echo(f"dropped:     {sum(dropped.values())} records (all time, every process), by reason:")
    width = max(len(reason) for reason in dropped)
    for reason, count, meaning in describe(dropped):
        click.echo(f"  {reason.ljust(width)}  {count:>9}  {meaning}")


def _echo_conversation_log(state: dict[str, Any]) -> None:
    click.echo("conversation log:")
    click.echo(f"  endpoint:      {state['endpoint'] or '(not set)'}")
    cached = f"{state['cached_spans']} spans ({state['cached_bytes']} bytes)"
    where = "the store, past the sent position" if state.get("follows_store") else state["cache"]
    click.echo(f"  waiting:       {cached} in {where}")
    click.echo(f"  last success:  {state.get('last_success') or 'never'}")
    if state.get("last_error"):
        click.echo(f"  last error:    {state['last_error']} at {state.get('last_error_at')}")
    click.echo(f"  delivered:     {state.get('delivered_records', 0)} records")
    dropped = {key: state.get(key, 0) for key in ("rejected_records", "dropped_overflow")}
    if any(dropped.values()):
        click.echo(
            f"  dropped:       {dropped['rejected_records']} refused by the endpoint, "
            f"{dropped['dropped_overflow']} for the cache bound"
        )


def _span_json(span: Any, depth: int) -> dict[str, Any]:
    return {
        "depth": depth,
        "span_id": span.span_id,
        "parent_span_id": span.parent_id or None,
        "name": span.name,
        "service": span.service,
        "start_unix_nano": span.start_ns,
        "duration_ms": round(span.duration_ms, 3),
        "status": {"code": span.status_code, "message": span.status_message},
        "attributes": span.attributes,
        "events": [
            {"name": event.get("name", ""), "attributes": decode_attributes(event.get("attributes"))}
            for event in span.raw.get("events", [])
        ],
    }


@main.command()
@click.argument("trace_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def trace(obj: _Context, trace_id: str, as_json: bool) -> None:
    """Show one trace as a tree with durations, events and status (TRACE_ID 'last': the newest)."""
    problems = ReadProblems()
    if trace_id == "last":
        trace_id = latest_trace_id(obj.store(), problems) or "last"
    spans = find_trace(obj.store(), trace_id, problems)
    failed = _report_problems(problems)
    if not spans:
        click.echo(f"trace {trace_id} not found in {obj.base_dir}", err=True)
        sys.exit(1)
    tree = trace_tree(spans)
    if as_json:
        _echo_json({"trace_id": trace_id.lower(), "spans": [_span_json(span, depth) for depth, span in tree]})
        sys.exit(1 if failed else 0)
    click.echo(f"trace {trace_id.lower()} ({len(spans)} spans)")
    for depth, span in tree:
        indent = "  " * depth
        status = ""
        if span.status_code == ERROR_CODE:
            status = "  ERROR" + (f": {span.status_message}" if span.status_message else "")
        elif span.status_code == 1:
            status = "  OK"
        click.echo(f"{indent}{span.name}  {span.duration_ms:.2f} ms  [{span.service}]{status}")
        for event in span.raw.get("events", []):
            attrs = decode_attributes(event.get("attributes"))
            shown = ", ".join(f"{key}={' '.join(str(value).split())[:60]}" for key, value in attrs.items())
            click.echo(f"{indent}  * {event.get('name', '')}" + (f" ({shown})" if shown else ""))
    if failed:
        sys.exit(1)


@main.command()
@click.option("--older-than", callback=_duration, help="Age, e.g. 7d (default: the retention setting).")
@click.option("--all", "everything", is_flag=True, help="Delete every dated file of the store.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def purge(obj: _Context, older_than: dt.timedelta | None, everything: bool, as_json: bool) -> None:
    """Delete store files older than the retention (TELEMETRY_RETENTION_DAYS, default 30 days)."""
    days = None
    if older_than is not None:
        if older_than.days < 1:
            raise click.BadParameter("must be at least 1d: store files are daily", param_hint="--older-than")
        days = older_than.days
    removed = obj.store().purge(older_than_days=days, everything=everything)
    if as_json:
        _echo_json({"removed": [str(path) for path in removed]})
        return
    for path in removed:
        click.echo(f"removed {path}")
    click.echo(f"{len(removed)} file(s) removed from {obj.base_dir}")


def _header(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    headers = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r} is not KEY=VALUE")
        headers[key.strip()] = text.strip()
    return headers


@main.command()
@click.option("--since", callback=_duration, help="Only store files of this age or younger, e.g. 7d.")
@click.option("--endpoint", help="OTLP/HTTP base URL (default: TELEMETRY_UPLOAD_ENDPOINT).")
@click.option("--header", "headers", multiple=True, callback=_header, help="KEY=VALUE, repeatable.")
@click.option("--dry-run", is_flag=True, help="Count what would be sent; send nothing.")
@click.option("--force", is_flag=True, help="Forget what was sent to this endpoint and send everything.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def upload(
    obj: _Context,
    since: dt.timedelta | None,
    endpoint: str | None,
    headers: dict[str, str],
    dry_run: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Send the store's traces, metrics and logs to an OTLP/HTTP endpoint; a rerun sends only what is new."""
    from exporters.upload import StoreUploader, state_base

    target = endpoint or obj.settings.upload_endpoint
    if not target:
        raise click.UsageError("no endpoint: pass --endpoint URL or set TELEMETRY_UPLOAD_ENDPOINT")
    first_day = None
    if since is not None:
        first_day = (dt.datetime.now(dt.UTC) - since).date().isoformat()
    uploader = StoreUploader(
        obj.base_dir,
        state_base(obj.base_dir),
        target,
        {**dict(obj.settings.upload_headers), **headers},
        since=first_day,
    )
    if force and not dry_run:
        uploader.reset()
    try:
        if sys.stderr.isatty() and not as_json:
            total = sum(uploader.pending_bytes().values())
            with click.progressbar(length=total, label="uploading", file=sys.stderr) as bar:
                done: dict[str, int] = {}

                def progress(signal: str, count: int) -> None:
                    step = count - done.get(signal, 0)
                    done[signal] = count if step >= 0 else 0
                    bar.update(max(step, 0))

                report = uploader.run(progress, dry_run=dry_run)
        else:
            report = uploader.run(dry_run=dry_run)
    finally:
        uploader.close()
    data = {
        "endpoint": report.endpoint,
        "dry_run": dry_run,
        "complete": report.complete,
        "error": report.error,
        "busy": report.busy,
        "unreadable_files": report.unreadable,
        "signals": {name: vars(counts) for name, counts in report.signals.items()},
    }
    if as_json:
        _echo_json(data)
    else:
        verb = "would send" if dry_run else "sent"
        for name, counts in report.signals.items():
            line = f"{name}: {verb} {counts.records} in {counts.requests} request(s), {counts.bytes} bytes"
            if counts.rejected:
                line += f"; {counts.rejected} refused by the endpoint (not sent again)"
            if counts.too_large:
                line += f"; {counts.too_large} in store lines too large for the endpoint (not sent again)"
            if counts.corrupt_lines:
                line += f"; {counts.corrupt_lines} unreadable store line(s) skipped"
            click.echo(line)
        for path, why in report.unreadable.items():
            click.echo(f"could not read {path} ({why}): not sent", err=True)
        if report.busy:
            click.echo("another process is uploading this store to this endpoint; try again later", err=True)
        if report.error:
            click.echo(f"stopped: {report.error}; rerun to resume where it stopped", err=True)
    if not report.complete:
        sys.exit(1)


@main.command()
@click.option("--since", default="7d", show_default=True, callback=_duration, help="Window, e.g. 24h, 7d.")
@click.option("--top", default=10, show_default=True, help="How many missing attributes to list.")
@click.option(
    "--fail-under", type=click.FloatRange(0, 100), help="Exit 1 if the overall percentage is lower."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def compliance(obj: _Context, since: dt.timedelta, top: int, fail_under: float | None, as_json: bool) -> None:
    """How completely the stored GenAI spans follow the GenAI conventions: overall, per type
    (agent run, tool execution, model interaction, memory operation, routing decision), and
    the attributes missing most often."""
    from instrumentations.compliance import ComplianceReport

    report = ComplianceReport()
    problems = ReadProblems()
    for span in iter_spans(obj.store(), dt.datetime.now(dt.UTC) - since, problems=problems):
        report.add(span.attributes, span.status_code)
    failed = _report_problems(problems)
    data = {**report.as_dict(top), **problems.as_dict()}
    if as_json:
        _echo_json({"store": str(obj.base_dir), **data})
    else:
        click.echo(f"GenAI spans: {report.genai_spans} of {report.spans_checked} checked in {obj.base_dir}")
        if report.genai_spans:
            click.echo(f"overall:     {data['overall_percent']:.1f}%")
            click.echo("by type:")
            for kind, row in data["by_type"].items():
                click.echo(f"  {kind:<18} {row['spans']:>7} spans  {row['percent']:5.1f}%")
        if data["most_missing"]:
            click.echo("missing most often:")
            for row in data["most_missing"]:
                click.echo(f"  {row['type']:<18} {row['attribute']} ({row['level']}): {row['spans']} spans")
    if failed or (fail_under is not None and 100 * report.overall < fail_under):
        sys.exit(1)


@main.command()
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--wait",
    type=float,
    callback=_wait_seconds,
    help="Seconds to wait for running processes to stop before checking, 0 to 3600 "
    "(default: the reload interval + 1).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def forget(obj: _Context, yes: bool, wait: float | None, as_json: bool) -> None:
    """Stop recording and erase the store, caches and upload state; recording stays off until
    `otel-distro enable`, for every process using this store."""
    import time

    from otel_distro import forget as switch

    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("forget erases the store; pass --yes to confirm")
        click.confirm(f"Stop recording and erase everything otel-distro keeps in {obj.base_dir}?", abort=True)
    marker = switch.disable(obj.base_dir)
    cache = obj.settings.cache_path
    removed = switch.erase(obj.base_dir, cache)
    # Running processes notice the marker within their reload interval, stop recording and erase
    # what they wrote since; erasing again after that catches what was in flight.
    time.sleep(obj.settings.reload_interval_secs + 1.0 if wait is None else wait)
    removed += [path for path in switch.erase(obj.base_dir, cache) if path not in removed]
    left = switch.leftovers(obj.base_dir)
    if as_json:
        _echo_json({"store": str(obj.base_dir), "marker": str(marker), "removed": removed, "left": left})
    else:
        click.echo(
            f"recording is off for {obj.base_dir} (marker {marker}); `otel-distro enable` turns it back on"
        )
        click.echo(f"erased {len(removed)} item(s): store files, caches, upload state and the hashing key")
        for path in left:
            click.echo(f"could not erase {path}", err=True)
    if left:
        sys.exit(1)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def enable(obj: _Context, as_json: bool) -> None:
    """Turn recording back on after `otel-distro forget` (running processes resume within seconds)."""
    from otel_distro import forget as switch

    removed = switch.enable(obj.base_dir)
    resolution = settings_module.resolve({"base_dir": obj.base_dir})
    still_off = None if resolution.settings.enabled else resolution.sources["enabled"]
    if as_json:
        _echo_json({"store": str(obj.base_dir), "marker_removed": removed, "still_off_by": still_off})
        return
    if removed:
        click.echo(f"the forget marker of {obj.base_dir} is removed")
    else:
        click.echo(f"{obj.base_dir} was not forgotten; nothing to undo")
    if still_off:
        click.echo(f"recording stays off: enabled is false in {still_off}")
    else:
        click.echo("recording is on for new processes; running ones resume within their reload interval")


@main.group()
def config() -> None:
    """Show or check the settings in effect."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def config_show(obj: _Context, as_json: bool) -> None:
    """Every option with its value and where it came from (secrets masked)."""
    rows = settings_module.describe(obj.resolution)
    file = str(obj.resolution.config_file) if obj.resolution.config_file else None
    if as_json:
        _echo_json({"config_file": file, "options": rows, "problems": obj.resolution.problems})
        return
    click.echo(f"config file: {file or '(none)'}")
    width = max(len(row["name"]) for row in rows)
    for row in rows:
        click.echo(f"{row['name'].ljust(width)}  {json.dumps(row['value'], default=str)}  ({row['source']})")
    for problem in obj.resolution.problems:
        click.echo(f"problem: {problem}", err=True)


def _echo_version_warnings() -> None:
    """Warn (stderr, exit status unchanged) when the installed API, SDK and contrib do not fit."""
    from otel_distro.versions import version_warnings

    for warning in version_warnings():
        click.echo(f"warning: {warning}", err=True)


@config.command("check")
@click.pass_obj
def config_check(obj: _Context) -> None:
    """Exit non-zero, listing every problem, if any setting, name or the config file is invalid;
    warn when the installed OpenTelemetry API, SDK and instrumentations are not of one release."""
    from otel_distro.components import check

    _echo_version_warnings()
    problems = obj.resolution.problems + check(obj.settings)
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo(
        "configuration OK" + (f" ({obj.resolution.config_file})" if obj.resolution.config_file else "")
    )
