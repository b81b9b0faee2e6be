// otel-distro serve dashboard: fetches /api/v1/series (same origin, cookie auth) and draws
// line charts on canvas. No library, no external source.
"use strict";
const COLORS = ["#3a7bd5", "#d33", "#2a9d8f", "#e9c46a", "#8e44ad", "#f4a261", "#264653"];

function draw(id, series, label) {
  const canvas = document.getElementById(id);
  if (!canvas) return;
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, pad = 30;
  ctx.clearRect(0, 0, w, h);
  const points = series.flatMap((s) => s.points);
  ctx.font = "11px sans-serif";
  if (!points.length) { ctx.fillStyle = "#667"; ctx.fillText("no data in this window", pad, h / 2); return; }
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs) || x0 + 1, y1 = Math.max(...ys, 1);
  const sx = (x) => pad + ((x - x0) / Math.max(x1 - x0, 1)) * (w - 2 * pad);
  const sy = (y) => h - pad - (y / y1) * (h - 2 * pad);
  ctx.strokeStyle = "#ccd"; ctx.beginPath(); ctx.moveTo(pad, pad); ctx.lineTo(pad, h - pad); ctx.lineTo(w - pad, h - pad); ctx.stroke();
  ctx.fillStyle = "#667"; ctx.fillText(String(Math.round(y1 * 100) / 100) + (label || ""), 2, pad - 6);
  series.forEach((s, i) => {
    ctx.strokeStyle = COLORS[i % COLORS.length]; ctx.fillStyle = ctx.strokeStyle; ctx.beginPath();
    s.points.forEach((p, j) => (j ? ctx.lineTo(sx(p[0]), sy(p[1])) : ctx.moveTo(sx(p[0]), sy(p[1]))));
    ctx.stroke();
    s.points.forEach((p) => ctx.fillRect(sx(p[0]) - 1.5, sy(p[1]) - 1.5, 3, 3));
    ctx.fillText(s.name, w - pad - 160, pad + 12 * i);
  });
}

async function load() {
  const response = await fetch("/api/v1/series?since=1h", { credentials: "same-origin" });
  if (!response.ok) return;
  const data = await response.json();
  draw("chart-spans", [
    { name: "spans", points: data.spans.map((p) => [p[0], p[1]]) },
    { name: "errors", points: data.spans.map((p) => [p[0], p[2]]) },
  ], "/min");
  const latency = [];
  for (const [name, points] of Object.entries(data.latency_ms)) {
    latency.push({ name: name + " p50", points: points.map((p) => [p[0], p[1]]) });
    latency.push({ name: name + " p95", points: points.map((p) => [p[0], p[2]]) });
  }
  draw("chart-latency", latency.slice(0, 6), " ms");
  draw("chart-tokens", Object.entries(data.tokens).map(([model, points]) => ({
    name: model, points: points.map((p) => [p[0], p[1] + p[2]]) })));
  draw("chart-redactions", Object.entries(data.redactions).map(([entity, points]) => ({
    name: entity, points: points.map((p) => [p[0], p[1]]) })));
  document.body.setAttribute("data-loaded", "true");
}
load();
