"""The viewer's pages, rendered on the server as plain HTML (no inline script or style: the CSP)."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from exporters.store.index import StoreIndex
from exporters.store.index_query import list_traces
from exporters.store.index_schema import MODEL, NAME, OPERATION, SERVICE
from otel_distro.serve import api, data

# What the redactor leaves in place of a value: <EMAIL>, <REDACTED>, hmac-sha256:…, <EMAIL:…>
_REDACTED = re.compile(r"&lt;[A-Z][A-Z0-9_]*(?::[^&\s]*)?&gt;|hmac-sha256:[0-9a-fA-F]+|\*{4,}")


def text(value: Any) -> str:
    """Escaped text, with redacted values marked."""
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return _REDACTED.sub(
        lambda m: f'<mark class="redacted" title="redacted">{m.group(0)}</mark>', html.escape(shown)
    )


def when(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns / 1e9, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def layout(title: str, body: str) -> HTMLResponse:
    nav = "".join(
        f'<a href="{href}">{label}</a>'
        for href, label in (
            ("/traces", "Traces"),
            ("/runs", "Runs"),
            ("/conversations", "Conversations"),
            ("/dashboard", "Dashboard"),
        )
    )
    return HTMLResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} · otel-distro'
        f'</title><link rel="stylesheet" href="/static/style.css"></head><body><header><strong>otel-distro</strong>'
        f"<nav>{nav}</nav></header><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )


async def _render(request: Request, work: Any) -> Response:
    response = await api.with_index(request, work)
    if isinstance(response, HTMLResponse):
        return response
    payload = json.loads(bytes(response.body))
    return layout("Error", f'<p class="error">{text(payload.get("error", "error"))}</p>')


def _options(index: StoreIndex, kind: int, chosen: str | None) -> str:
    values = ['<option value="">any</option>']
    for value in index.dim_values(kind)[:300]:
        selected = " selected" if value == chosen else ""
        values.append(
            f'<option value="{html.escape(value, quote=True)}"{selected}>{html.escape(value)}</option>'
        )
    return "".join(values)


def _filters(index: StoreIndex, params: Any) -> str:
    def field(name: str, label: str, control: str) -> str:
        return f"<label>{label} {control}</label>"

    def value(name: str) -> str:
        return html.escape(params.get(name, ""), quote=True)

    status = params.get("status", "")
    statuses = "".join(
        f'<option value="{v}"{" selected" if v == status else ""}>{v or "any"}</option>'
        for v in ("", "ok", "error")
    )
    return (
        '<form class="filters" method="get" action="/traces">'
        + field(
            "since", "since", f'<input name="since" value="{value("since")}" placeholder="24h or ISO time">'
        )
        + field("until", "until", f'<input name="until" value="{value("until")}" placeholder="ISO time">')
        + field(
            "service",
            "service",
            f'<select name="service">{_options(index, SERVICE, params.get("service"))}</select>',
        )
        + field("status", "status", f'<select name="status">{statuses}</select>')
        + field(
            "name", "span name", f'<select name="name">{_options(index, NAME, params.get("name"))}</select>'
        )
        + field(
            "operation",
            "GenAI operation",
            f'<select name="operation">{_options(index, OPERATION, params.get("operation"))}</select>',
        )
        + field(
            "model", "model", f'<select name="model">{_options(index, MODEL, params.get("model"))}</select>'
        )
        + field(
            "q", "text", f'<input name="q" value="{value("q")}" placeholder="name, service, model, trace id">'
        )
        + '<button type="submit">Filter</button></form>'
    )


async def traces_page(request: Request) -> Response:
    def work(index: StoreIndex) -> HTMLResponse:
        params = request.query_params
        page = list_traces(
            index, data.trace_filter(params), api.page_limit(request), params.get("cursor") or None
        )
        rows = "".join(
            f'<tr class="{"error" if t["errors"] else ""}"><td>{when(t["start_unix_nano"])}</td>'
            f'<td><a href="/traces/{t["trace_id"]}">{text(t["root_name"] or "(no root)")}</a></td>'
            f'<td>{text(t["service"] or "")}</td><td class="num">{t["spans"]}</td>'
            f'<td class="num">{t["errors"]}</td><td class="num">{t["duration_ms"]:.2f} ms</td>'
            f'<td class="mono">{t["trace_id"]}</td></tr>'
            for t in page.traces
        )
        more = ""
        if page.next_cursor:
            rest = [(k, v) for k, v in params.multi_items() if k != "cursor"] + [("cursor", page.next_cursor)]
            more = f'<p><a class="next" href="/traces?{html.escape(urlencode(rest), quote=True)}">Older traces →</a></p>'
        table = (
            f'<table id="traces"><thead><tr><th>start (UTC)</th><th>root span</th><th>service</th><th>spans</th>'
            f"<th>errors</th><th>duration</th><th>trace id</th></tr></thead><tbody>{rows}</tbody></table>"
            if page.traces
            else '<p class="empty">No trace matches.</p>'
        )
        return layout("Traces", _filters(index, params) + table + more)

    return await _render(request, work)


def _conversation(genai: dict[str, Any]) -> str:
    parts = []
    if genai["system"]:
        parts.append(f'<div class="msg system"><b>system</b><p>{text(genai["system"])}</p></div>')
    for message in [*genai["input"], *genai["output"]]:
        calls = "".join(
            f'<div class="toolcall">tool call <b>{text(c["name"])}</b>({text(c["arguments"])})</div>'
            for c in message["tool_calls"]
        )
        parts.append(
            f'<div class="msg {html.escape(message["role"])}"><b>{text(message["role"])}</b>'
            f"<p>{text(message['text'])}</p>{calls}</div>"
        )
    if genai["tool"]:
        tool = genai["tool"]
        parts.append(
            f'<div class="msg tool"><b>tool {text(tool["name"])}</b><p>arguments: {text(tool["arguments"] or "")}</p>'
            f"<p>result: {text(tool['result'] or '')}</p></div>"
        )
    usage = genai["usage"]
    facts = [f"operation {text(genai['operation'] or '')}", f"model {text(genai['model'] or '')}"]
    if usage["input"] is not None or usage["output"] is not None:
        facts.append(f"usage: {usage['input'] or 0} in, {usage['output'] or 0} out")
    return f'<section class="conversation"><div class="facts">{" · ".join(facts)}</div>{"".join(parts)}</section>'


def _table(values: dict[str, Any]) -> str:
    if not values:
        return ""
    rows = "".join(f"<tr><th>{text(k)}</th><td>{text(v)}</td></tr>" for k, v in values.items())
    return f'<table class="attrs">{rows}</table>'


async def trace_page(request: Request) -> Response:
    trace_id = request.path_params["trace_id"]

    def work(index: StoreIndex) -> HTMLResponse:
        found = data.trace_json(index, trace_id)
        if found is None:
            response = layout("Trace not found", f"<p>No trace {text(trace_id)} in the store.</p>")
            response.status_code = 404
            return response
        spans = found["spans"]
        start = min(s["start_unix_nano"] for s in spans)
        end = max(s["start_unix_nano"] + s["duration_ms"] * 1e6 for s in spans)
        total = max(end - start, 1)
        items = []
        for span in spans:
            left = (span["start_unix_nano"] - start) / total * 100
            width = max(span["duration_ms"] * 1e6 / total * 100, 0.3)
            error = span["status"]["code"] == 2
            bar = (
                f'<svg class="bar" viewBox="0 0 100 4" preserveAspectRatio="none"><rect x="{left:.3f}" y="0" '
                f'width="{width:.3f}" height="4" class="{"err" if error else "ok"}"/></svg>'
            )
            events = "".join(
                f"<li><b>{text(e['name'])}</b> {when(e['time_unix_nano'])} {_table(e['attributes'])}</li>"
                for e in span["events"]
            )
            links = "".join(
                f'<li><a href="/traces/{text(link["trace_id"])}">{text(link["trace_id"])}</a> '
                f"{text(link['span_id'])}</li>"
                for link in span["links"]
            )
            exceptions = "".join(
                f'<div class="exception">{text(e["attributes"].get("exception.type", ""))}: '
                f"{text(e['attributes'].get('exception.message', ''))}</div>"
                for e in span["exceptions"]
            )
            status = (
                "ERROR" + (f": {text(span['status']['message'])}" if span["status"]["message"] else "")
                if error
                else ""
            )
            items.append(
                f'<details class="span depth-{min(span["depth"], 12)}" data-span-id="{span["span_id"]}">'
                f'<summary><span class="name">{text(span["name"])}</span> <span class="svc">{text(span["service"])}</span>'
                f' <span class="dur">{span["duration_ms"]:.2f} ms</span> <span class="status">{status}</span>{bar}</summary>'
                f"{exceptions}{_conversation(span['genai']) if span['genai'] else ''}"
                f"<h4>attributes</h4>{_table(span['attributes'])}"
                + (f"<h4>events</h4><ul>{events}</ul>" if events else "")
                + (f"<h4>links</h4><ul>{links}</ul>" if links else "")
                + "</details>"
            )
        summary = (
            f'<p class="mono">{found["trace_id"]} · {len(spans)} spans · {(end - start) / 1e6:.2f} ms</p>'
        )
        return layout("Trace", summary + '<div class="waterfall">' + "".join(items) + "</div>")

    return await _render(request, work)


async def runs_page(request: Request) -> Response:
    def work(index: StoreIndex) -> HTMLResponse:
        rows = []
        for run in data.runs(index, api.page_limit(request)):
            commit = ""
            if run["commit"]:
                revision = run["commit"]["revision"] or ""
                repo = run["commit"]["repository"] or ""
                if repo.startswith(("https://", "http://")):
                    commit = f'<a href="{html.escape(repo.rstrip("/"), quote=True)}/commit/{text(revision)}">{text(revision[:12])}</a>'
                else:
                    commit = text(revision[:12])
            rows.append(
                f'<tr class="{"error" if run["status"] == "failed" else ""}"><td>{when(run["start_unix_nano"])}</td>'
                f'<td><a href="/traces/{run["trace_id"]}">{text(run["agent"] or "")}</a></td><td>{text(run["job"] or "")}</td>'
                f'<td>{text(run["status"])}</td><td class="num">{run["duration_ms"]:.2f} ms</td>'
                f"<td>{text(run['items']) if run['items'] else ''}</td><td>{text(run['metrics']) if run['metrics'] else ''}</td>"
                f"<td>{commit}</td></tr>"
            )
        body = (
            '<table id="runs"><thead><tr><th>start (UTC)</th><th>agent</th><th>job</th><th>status</th><th>duration</th>'
            f"<th>items</th><th>metrics</th><th>commit</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
            if rows
            else '<p class="empty">No agent run recorded.</p>'
        )
        return layout("Agent runs", body)

    return await _render(request, work)


async def conversations_page(request: Request) -> Response:
    def work(index: StoreIndex) -> HTMLResponse:
        blocks = []
        for session in data.conversations(index, request.query_params.get("session") or None):
            turns = "".join(
                f'<div class="turn"><div class="meta">{when(t["start_unix_nano"])} · {text(t["model"] or "")} · '
                f'<a href="/traces/{t["trace_id"]}">trace</a></div><div class="msg user"><b>user</b><p>{text(t["user"])}</p></div>'
                f'<div class="msg assistant"><b>assistant</b><p>{text(t["assistant"])}</p></div></div>'
                for t in session["turns"]
            )
            blocks.append(
                f'<section class="session"><h2>session {text(session["session"])}</h2>{turns}</section>'
            )
        return layout("Conversations", "".join(blocks) or '<p class="empty">No conversation recorded.</p>')

    return await _render(request, work)


async def dashboard_page(request: Request) -> Response:
    def work(index: StoreIndex) -> HTMLResponse:
        stats = api.stats_data(request, index, request.query_params.get("since", "24h"))
        log = stats.get("conversation_log")
        delivery = (
            _table(
                {
                    k: log.get(k)
                    for k in (
                        "endpoint",
                        "cached_spans",
                        "cached_bytes",
                        "delivered_records",
                        "last_success",
                        "last_error",
                        "rejected_records",
                    )
                    if k in log
                }
            )
            if log
            else "<p>The conversation log is not configured.</p>"
        )
        redacted = _table(stats["redacted"]) or "<p>No value was redacted in this window.</p>"
        tokens = _table(stats["tokens"]) or "<p>No tokens recorded.</p>"
        body = (
            f'<p class="facts">last 24h: {stats["spans"]} spans in {stats["traces"]} traces, {stats["errors"]} errors, '
            f"p50 {stats['p50_ms']:.1f} ms, p95 {stats['p95_ms']:.1f} ms, {stats['dropped_total']} records dropped</p>"
            '<div class="charts">'
            '<figure><figcaption>spans and errors per minute (last hour)</figcaption><canvas id="chart-spans" width="560" height="200"></canvas></figure>'
            '<figure><figcaption>p50 / p95 latency by span name (ms)</figcaption><canvas id="chart-latency" width="560" height="200"></canvas></figure>'
            '<figure><figcaption>tokens by model</figcaption><canvas id="chart-tokens" width="560" height="200"></canvas></figure>'
            '<figure><figcaption>redactions by entity</figcaption><canvas id="chart-redactions" width="560" height="200"></canvas></figure>'
            "</div>"
            f'<div class="panels"><section><h2>conversation-log delivery</h2>{delivery}</section>'
            f"<section><h2>redactions by entity (24h)</h2>{redacted}</section><section><h2>tokens (24h)</h2>{tokens}</section></div>"
            '<script src="/static/dashboard.js"></script>'
        )
        return layout("Dashboard", body)

    return await _render(request, work)
