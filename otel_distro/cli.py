"""The ``otel-distro`` command line over the local store: stats, trace, purge, upload, compliance,
forget, enable and config."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from exporters.store.decode import json_safe
from exporters.store.files import ReadProblems
from exporters.store.index_query import indexed_find_trace, indexed_span_stats
from exporters.store.query import (
    ERROR_CODE,
    iter_spans,
    latest_trace_id,
    parse_duration,
    trace_tree,
)
from otel_distro import settings as settings_module
from otel_distro.store_context import StoreContext, dropped_counts, stats_json


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(json_safe(data), indent=2, sort_keys=False, default=str))


def _report_problems(problems: ReadProblems) -> bool:
    """Say on stderr what the store's readers passed over; True if the answer is wrong for it
    (a file could not be read)."""
    for where in problems.unreadable:
        click.echo(f"could not read {where}: the answer leaves it out", err=True)
    if problems.malformed:
        click.echo(f"skipped {problems.malformed} malformed store record(s)", err=True)
    if problems.unauthentic:
        click.echo(
            f"skipped {problems.unauthentic} sealed store line(s) that did not open "
            "(altered, moved or swapped, or no key)",
            err=True,
        )
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


def _percentage(_ctx: click.Context, _param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not 0 <= value <= 100:  # also refuses nan, which every comparison passes
        raise click.BadParameter(f"{value:g} is not a percentage from 0 to 100")
    return value


def _record_upload_drops(base_dir: Path, report: Any) -> None:
    """What the endpoint refused for good goes into the store's drop counts, as the continuous
    upload's does, so `stats` shows it too (the report and the exit status say it already)."""
    from otel_distro.drop_ledger import DROPS_KEY, drops_file

    counts = report.signals.values()
    dropped = {
        "upload_refused": sum(signal.rejected for signal in counts),
        "upload_too_large": sum(signal.too_large for signal in counts),
    }
    dropped = {reason: count for reason, count in dropped.items() if count}
    if dropped:
        try:
            drops_file(base_dir).add(dropped, DROPS_KEY)
        except OSError as exc:
            click.echo(f"warning: could not record the upload's drops in the store: {exc}", err=True)


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
    ctx.obj = StoreContext(base_dir)


@main.command()
@click.option(
    "--since", default="24h", show_default=True, callback=_duration, help="Window, e.g. 30m, 24h, 7d."
)
@click.option("--top", default=10, show_default=True, help="How many span names to list.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def stats(obj: StoreContext, since: dt.timedelta, top: int, as_json: bool) -> None:
    """Span count, error rate, p50/p95 duration, top span names and GenAI token usage."""
    if obj.sealed:
        from exporters.store.query import span_stats

        result = span_stats(obj.store(), since, top=top)
    else:
        result = indexed_span_stats(obj.store(), since, top=top)
    conversation_log = obj.conversation_log()
    dropped = dropped_counts(obj.base_dir)
    failed = _report_problems(result.problems)
    if as_json:
        _echo_json(stats_json(obj, result, conversation_log, dropped))
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
    _echo_disk_guard(obj.disk_guard())
    _echo_dropped(dropped)
    if failed:
        sys.exit(1)


def _echo_disk_guard(state: dict[str, Any]) -> None:
    free = "unknown" if state["free_mb"] is None else f"{state['free_mb']:.0f} MB"
    cap = "no cap" if state["max_store_mb"] is None else f"cap {state['max_store_mb']} MB"
    writing = "writing" if state["writing"] else f"NOT WRITING ({state['paused_by']})"
    click.echo(
        f"disk guard:  {writing}; free {free} (min {state['min_free_mb']} MB); "
        f"store {state['store_mb']:.1f} MB ({cap})"
    )


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
        "events": [{"name": name, "attributes": attributes} for name, _, attributes in span.events],
    }


@main.command()
@click.argument("trace_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def trace(obj: StoreContext, trace_id: str, as_json: bool) -> None:
    """Show one trace as a tree with durations, events and status (TRACE_ID 'last': the newest)."""
    problems = ReadProblems()
    if trace_id == "last":
        trace_id = latest_trace_id(obj.store(), problems) or "last"
    if obj.sealed:
        from exporters.store.query import find_trace

        spans = find_trace(obj.store(), trace_id, problems)
    else:
        spans = indexed_find_trace(obj.store(), trace_id, problems)
    failed = _report_problems(problems)
    if not spans:
        where = "the files that could be read" if problems.unreadable else str(obj.base_dir)
        click.echo(f"trace {trace_id} not found in {where}", err=True)
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
        for name, _, attrs in span.events:
            shown = ", ".join(f"{key}={' '.join(str(value).split())[:60]}" for key, value in attrs.items())
            click.echo(f"{indent}  * {name}" + (f" ({shown})" if shown else ""))
    if failed:
        sys.exit(1)


@main.command()
@click.option("--older-than", callback=_duration, help="Age, e.g. 7d (default: the retention setting).")
@click.option("--all", "everything", is_flag=True, help="Delete every dated file of the store.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def purge(obj: StoreContext, older_than: dt.timedelta | None, everything: bool, as_json: bool) -> None:
    """Delete store files older than the retention (TELEMETRY_RETENTION_DAYS, default 30 days)."""
    days = None
    if older_than is not None:
        if older_than.days < 1:
            raise click.BadParameter("must be at least 1d: store files are daily", param_hint="--older-than")
        days = older_than.days
    removed = obj.store().purge(older_than_days=days, everything=everything)
    from exporters.store.index import forget_files

    forget_files(obj.base_dir, removed)  # the index drops them too (readers would notice anyway)
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
        if not (value.isascii() and value.isprintable()):
            raise click.BadParameter(f"{value!r}: a header is printable ASCII")
        headers[key.strip()] = text.strip()
    return headers


def _endpoint(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from otel_distro.setting_values import URL

    try:
        return URL.parse(value)  # type: ignore[no-any-return]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not {URL.accepted}") from None


def _signals(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    from exporters.upload import parse_signals

    try:
        return parse_signals(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _uploader(
    obj: StoreContext,
    to: str,
    endpoint: str | None,
    headers: dict[str, str],
    signals: tuple[str, ...] | None,
    first_day: str | None,
    dp: Any = None,
) -> Any:
    """The store uploader ``upload`` runs: plain OTLP, or spans enriched for Phoenix; with ``dp``
    (``DpOptions``), metrics as noisy aggregates and, unless ``signals`` asks, nothing else."""
    from exporters.upload import StoreUploader, state_base
    from otel_distro.scrub import record_scrubber

    settings = obj.settings
    if to == "phoenix":
        from exporters.phoenix import auth_headers, base_url
        from exporters.phoenix_mapping import enrich_traces_data

        target = endpoint or settings.phoenix_collector_endpoint
        if not target:
            raise click.UsageError("no endpoint: pass --endpoint URL or set PHOENIX_COLLECTOR_ENDPOINT")
        if signals not in (None, ("traces",)):
            raise click.BadParameter("Phoenix takes traces only", param_hint="--signals")
        if dp is not None:
            raise click.BadParameter(
                "Phoenix takes traces only; private metrics go with --to otlp", param_hint="--dp-epsilon"
            )
        project = settings.phoenix_project_name

        def enrich(signal: str, data: dict[str, Any]) -> None:
            if signal == "traces":
                enrich_traces_data(data, project)

        return StoreUploader(
            obj.base_dir,
            state_base(obj.base_dir),
            base_url(target),
            {**auth_headers(settings.phoenix_api_key), **headers},
            since=first_day,
            signals=("traces",),
            destination="phoenix",
            enrich=enrich,
            redact=record_scrubber(settings),
        )
    target = endpoint or settings.upload_endpoint
    if not target:
        raise click.UsageError("no endpoint: pass --endpoint URL or set TELEMETRY_UPLOAD_ENDPOINT")
    return StoreUploader(
        obj.base_dir,
        state_base(obj.base_dir),
        target,
        {**dict(settings.upload_headers), **headers},
        since=first_day,
        signals=signals or (("metrics",) if dp is not None else settings.upload_signals),
        dp=dp,
        redact=record_scrubber(settings),
    )


def _dp_options(
    obj: StoreContext,
    epsilon: float | None,
    contribution: float | None,
    budget: float | None,
    mechanism: str | None,
) -> Any:
    """The private-metrics options of ``upload`` (flags over settings); None: raw metrics."""
    settings = obj.settings
    epsilon = epsilon if epsilon is not None else settings.upload_dp_epsilon
    if epsilon is None:
        return None
    from exporters.dp_metrics import DpOptions

    try:
        return DpOptions(
            epsilon,
            contribution if contribution is not None else settings.upload_dp_max_contribution,
            budget if budget is not None else settings.upload_dp_budget,
            mechanism or settings.upload_dp_mechanism,
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def _dp_summary(report: Any) -> dict[str, Any]:
    """The ``dp`` member of ``upload --json``: what a private upload released and spent."""
    if report.dp is None and not report.budget_exceeded:
        return {}
    return {"dp": {**(report.dp or {}), "budget_exceeded": report.budget_exceeded}}


def _dp_line(report: Any) -> str:
    dp = report.dp
    if dp is None:
        return ""
    return (
        f" (private: {dp['released']} noisy aggregate(s) of {dp['points_read']} point(s), "
        f"ε={dp['epsilon']:g}, {dp['left']:g} of {dp['budget']:g} left)"
    )


@main.command()
@click.option("--since", callback=_duration, help="Only store files of this age or younger, e.g. 7d.")
@click.option(
    "--endpoint", callback=_endpoint, help="OTLP/HTTP base URL (default: TELEMETRY_UPLOAD_ENDPOINT)."
)
@click.option(
    "--signals",
    callback=_signals,
    help="Comma-separated subset of traces,metrics,logs (default: TELEMETRY_UPLOAD_SIGNALS, else all).",
)
@click.option(
    "--to",
    type=click.Choice(["otlp", "phoenix"]),
    default="otlp",
    show_default=True,
    help="phoenix: traces only, GenAI spans as Phoenix reads them (endpoint: PHOENIX_COLLECTOR_ENDPOINT).",
)
@click.option("--header", "headers", multiple=True, callback=_header, help="KEY=VALUE, repeatable.")
@click.option("--dry-run", is_flag=True, help="Count what would be sent; send nothing.")
@click.option("--force", is_flag=True, help="Forget what was sent to this endpoint and send everything.")
@click.option(
    "--dp-epsilon",
    type=click.FloatRange(0, min_open=True),
    help="Send metrics as differentially private aggregates spending this epsilon "
    "(default: upload.dp_epsilon); traces and logs only if --signals names them.",
)
@click.option(
    "--dp-max-contribution",
    type=click.FloatRange(0, min_open=True),
    help="Declared bound on one user's contribution (default: upload.dp_max_contribution).",
)
@click.option(
    "--dp-budget",
    type=click.FloatRange(0, min_open=True),
    help="Total epsilon per 30 days for this store and endpoint (default: upload.dp_budget).",
)
@click.option(
    "--dp-mechanism", type=click.Choice(["laplace", "gaussian"]), help="Default: upload.dp_mechanism."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def upload(
    obj: StoreContext,
    since: dt.timedelta | None,
    endpoint: str | None,
    signals: tuple[str, ...] | None,
    to: str,
    headers: dict[str, str],
    dry_run: bool,
    force: bool,
    dp_epsilon: float | None,
    dp_max_contribution: float | None,
    dp_budget: float | None,
    dp_mechanism: str | None,
    as_json: bool,
) -> None:
    """Send the store's traces, metrics and logs to an OTLP/HTTP endpoint; a rerun sends only what
    is new. A signal the endpoint does not take (404, 405 or 501 on its path) is skipped.
    With --dp-epsilon, metrics go as noisy aggregates per series and day, within a privacy budget."""
    first_day = None
    if since is not None:
        first_day = (dt.datetime.now(dt.UTC) - since).date().isoformat()
    dp = _dp_options(obj, dp_epsilon, dp_max_contribution, dp_budget, dp_mechanism)
    uploader = _uploader(obj, to, endpoint, headers, signals, first_day, dp)
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
    if not dry_run:
        _record_upload_drops(obj.base_dir, report)
    data = {
        "endpoint": report.endpoint,
        "dry_run": dry_run,
        "complete": report.complete,
        "error": report.error,
        "busy": report.busy,
        "unreadable_files": report.unreadable,
        "signals": {name: vars(counts) for name, counts in report.signals.items()},
        **_dp_summary(report),
    }
    if as_json:
        _echo_json(data)
    else:
        verb = "would send" if dry_run else "sent"
        for name, counts in report.signals.items():
            if counts.not_taken is not None:
                why = f" ({counts.not_taken})" if counts.not_taken else ""
                click.echo(
                    f"{name}: skipped: the endpoint does not take {name}{why}; not asked again "
                    "(--force asks again)"
                )
                continue
            line = f"{name}: {verb} {counts.records} in {counts.requests} request(s), {counts.bytes} bytes"
            if counts.rejected:
                line += f"; {counts.rejected} refused by the endpoint (not sent again)"
            if counts.too_large:
                line += f"; {counts.too_large} in store lines too large for the endpoint (not sent again)"
            if counts.corrupt_lines:
                line += f"; {counts.corrupt_lines} unreadable store line(s) skipped"
            click.echo(line + (_dp_line(report) if name == "metrics" else ""))
        for path, why in report.unreadable.items():
            click.echo(f"could not read {path} ({why}): not sent", err=True)
        if report.busy:
            click.echo("another process is uploading this store to this endpoint; try again later", err=True)
        if report.error:
            stopped = f"stopped: {report.error}; rerun to resume where it stopped"
            click.echo(report.error if report.budget_exceeded else stopped, err=True)
    if not report.complete:
        sys.exit(1)


@main.command()
@click.option("--since", default="7d", show_default=True, callback=_duration, help="Window, e.g. 24h, 7d.")
@click.option("--top", default=10, show_default=True, help="How many missing attributes to list.")
@click.option(
    "--fail-under", type=float, callback=_percentage, help="Exit 1 if the overall percentage is lower."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def compliance(
    obj: StoreContext, since: dt.timedelta, top: int, fail_under: float | None, as_json: bool
) -> None:
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
def forget(obj: StoreContext, yes: bool, wait: float | None, as_json: bool) -> None:
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
    key_file = obj.settings.store_key_file
    removed = switch.erase(obj.base_dir, cache, key_file)
    # Running processes notice the marker within their reload interval, stop recording and erase
    # what they wrote since; erasing again after that catches what was in flight.
    time.sleep(obj.settings.reload_interval_secs + 1.0 if wait is None else wait)
    removed += [path for path in switch.erase(obj.base_dir, cache, key_file) if path not in removed]
    left = switch.leftovers(obj.base_dir, cache)
    if as_json:
        _echo_json({"store": str(obj.base_dir), "marker": str(marker), "removed": removed, "left": left})
    else:
        click.echo(
            f"recording is off for {obj.base_dir} (marker {marker}); `otel-distro enable` turns it back on"
        )
        click.echo(
            f"erased {len(removed)} item(s): store files, caches, upload state, the hashing key "
            "and the store key"
        )
        for path in left:
            click.echo(f"could not erase {path}", err=True)
    if left:
        sys.exit(1)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def enable(obj: StoreContext, as_json: bool) -> None:
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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (another one warns).")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any).")
@click.option(
    "--token", help="Token the pages and API require (default: TELEMETRY_SERVE_TOKEN, or generated)."
)
@click.option("--no-open", is_flag=True, help="Do not open a browser.")
@click.pass_obj
def serve(obj: StoreContext, host: str, port: int, token: str | None, no_open: bool) -> None:
    """A local, read-only web viewer and JSON API (/api/v1, /metrics) over the store."""
    try:
        from otel_distro.serve import run
    except ImportError as exc:
        raise click.UsageError(
            f"serve needs the 'serve' extra: pip install 'otel-distro[serve]' ({exc})"
        ) from exc
    explicit = token or obj.settings.serve_token
    if host not in ("127.0.0.1", "localhost", "::1") and not explicit:
        raise click.UsageError(
            f"--host {host} exposes the store beyond this machine: "
            "pass --token (or set TELEMETRY_SERVE_TOKEN)"
        )
    run(obj, host, port, explicit, open_browser=not no_open)


@main.group()
def config() -> None:
    """Show or check the settings in effect."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def config_show(obj: StoreContext, as_json: bool) -> None:
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
def config_check(obj: StoreContext) -> None:
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


@main.command()
@click.option("--since", default="1h", show_default=True, callback=_duration, help="Window, e.g. 1h, 24h.")
@click.option("--trace", "trace_id", help="Only this trace's spans and log records.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("otel-distro-bundle.tar.gz"),
    show_default=True,
    help="The tar.gz to write (mode 0600).",
)
@click.option("--dry-run", is_flag=True, help="List what would go in; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def bundle(
    obj: StoreContext, since: dt.timedelta, trace_id: str | None, output: Path, dry_run: bool, as_json: bool
) -> None:
    """A debug bundle for a bug report: the store's records of the window (opened, redacted
    again), the settings with secrets masked, versions, drop and delivery counters, problems."""
    from otel_distro import bundle as bundles

    made = bundles.build(obj, since, trace_id, obj.disk_guard())
    manifest = made.manifest()
    if not dry_run:
        try:
            made.write(output)
        except OSError as exc:
            raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    if as_json:
        _echo_json({"output": None if dry_run else str(output), "dry_run": dry_run, "entries": manifest})
        return
    for entry in manifest:
        click.echo(f"{entry['name']:40s} {entry['bytes']:>9} bytes  {entry['what']}")
    click.echo("(dry run: nothing written)" if dry_run else f"wrote {output}")


@main.group()
def store() -> None:
    """Manage the encrypted store: a new key, plain copies for a collector."""


@store.command("rotate-key")
@click.option(
    "--wait",
    type=float,
    callback=_wait_seconds,
    help="Seconds running writers get to take up the new key before files are re-sealed (default 6).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def store_rotate_key(obj: StoreContext, wait: float | None, as_json: bool) -> None:
    """Make a new store key, re-seal every store file with it (each replaced atomically) and
    drop the old key."""
    from otel_distro.store_admin import follower_states, rotate_key, spools_of
    from otel_distro.store_key import KeyStoreError, StoreKey

    key = StoreKey.of(obj.settings, obj.base_dir)
    store = obj.store()
    log_dir = obj.settings.cache_path or obj.base_dir / "cache" / "conversation_log"
    try:
        report = rotate_key(
            store,
            key,
            followers=follower_states(store, log_dir),
            spools=spools_of(log_dir),
            **({} if wait is None else {"wait_seconds": wait}),
        )
    except (KeyStoreError, ValueError, OSError) as exc:
        raise click.ClickException(f"cannot rotate the store key: {exc}") from exc
    data = {**vars(report), "key_kept_in": key.where()}
    if as_json:
        _echo_json(data)
    else:
        old = ", ".join(report.old_key_ids) or "(none: the store was plain)"
        click.echo(f"new key {report.new_key_id} in {key.where()}; old key(s) {old} dropped")
        click.echo(f"re-sealed {report.lines} line(s) in {report.files} file(s)")
    if report.skipped:
        click.echo(f"left out {report.skipped} line(s) that did not open or were partial", err=True)
        sys.exit(1)


@store.command("export")
@click.option("--since", callback=_duration, help="Only files of this age or younger, e.g. 7d.")
@click.option(
    "-o",
    "--output",
    "directory",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory for the plain copies (signal/YYYY-MM-DD.jsonl).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def store_export(obj: StoreContext, since: dt.timedelta | None, directory: Path, as_json: bool) -> None:
    """Write plain OTLP JSON Lines (sealed lines opened) for a collector's otlpjsonfile receiver."""
    from otel_distro.store_admin import export_plain

    try:
        report = export_plain(obj.store(), since, directory)
    except OSError as exc:
        raise click.ClickException(f"cannot write under {directory}: {exc.strerror or exc}") from None
    failed = _report_problems(report.problems)
    if as_json:
        files = [str(path) for path in report.files]
        data = {"directory": str(directory), "files": files, "records": report.records}
        _echo_json({**data, **report.problems.as_dict()})
    else:
        click.echo(f"wrote {report.records} record(s) in {len(report.files)} file(s) under {directory}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":  # python -m otel_distro.cli, as the otel-distro command
    main()
