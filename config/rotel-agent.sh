#!/bin/sh
# rotel-agent as a gateway between the app and its backends: the pipeline of
# config/collector-gateway.yaml with no collector install (rotel-agent ships in the `rotel`
# wheel: pip install rotel, or this project's dev extras).
#
#   app --OTLP gRPC/HTTP--> rotel-agent (batches) --OTLP/HTTP protobuf, gzip--> traces  backend
#                                                                          --> metrics backend
#                                                                          --> logs    backend
#
# Environment (the same names and defaults as the collector examples):
#   OTLP_GRPC_LISTEN          where apps send OTLP/gRPC      localhost:4317
#   OTLP_HTTP_LISTEN          where apps send OTLP/HTTP      localhost:4318
#                             (localhost: only this machine can send; 0.0.0.0:... for others)
#   TRACES_BACKEND_ENDPOINT   Jaeger or Tempo, base URL      http://jaeger:4318
#   METRICS_BACKEND_ENDPOINT  e.g. Prometheus OTLP ingest    http://prometheus:9090/api/v1/otlp
#   LOGS_BACKEND_ENDPOINT     e.g. Loki OTLP ingest          http://loki:3100/otlp
#                             (base URLs: /v1/traces, /v1/metrics, /v1/logs are appended)
#   BACKEND_HEADERS           headers for every backend request, k=v,k2=v2
#                             (e.g. authorization=Bearer ...)                     none
#   BATCH_TIMEOUT, BATCH_MAX_SIZE  send a batch after this long or at this many records  200ms, 8192
#   PYTHON                    the Python whose `rotel` package holds rotel-agent, when
#                             rotel-agent is not on PATH                         python3
# Arguments are passed on to `rotel-agent start` (see `rotel-agent start --help`), e.g.
#   --otlp-exporter-retry-max-elapsed-time 30m
#
# Run it, then start the app with
#   OTEL_TRACES_EXPORTER=otlp OTEL_METRICS_EXPORTER=otlp OTEL_LOGS_EXPORTER=otlp \
#   OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 opentelemetry-instrument python app.py
# To send the local store through it instead: otel-distro upload --endpoint http://localhost:4318
#
# Not in rotel-agent: a memory limiter, and a queue kept on disk (failed requests are retried
# with backoff, for up to 5 minutes by default, from memory). It does not read files either:
# the store goes through `otel-distro upload`, or config/collector-store-reader.yaml.
set -eu

OTLP_GRPC_LISTEN=${OTLP_GRPC_LISTEN:-localhost:4317}
OTLP_HTTP_LISTEN=${OTLP_HTTP_LISTEN:-localhost:4318}
TRACES_BACKEND_ENDPOINT=${TRACES_BACKEND_ENDPOINT:-http://jaeger:4318}
METRICS_BACKEND_ENDPOINT=${METRICS_BACKEND_ENDPOINT:-http://prometheus:9090/api/v1/otlp}
LOGS_BACKEND_ENDPOINT=${LOGS_BACKEND_ENDPOINT:-http://loki:3100/otlp}
BACKEND_HEADERS=${BACKEND_HEADERS:-}
BATCH_TIMEOUT=${BATCH_TIMEOUT:-200ms}
BATCH_MAX_SIZE=${BATCH_MAX_SIZE:-8192}

find_rotel_agent() {
    if command -v rotel-agent >/dev/null 2>&1; then
        command -v rotel-agent
        return 0
    fi
    "${PYTHON:-python3}" -c '
import importlib.resources, sys
agent = importlib.resources.files("rotel") / "rotel-agent"
if not agent.is_file():
    sys.exit(1)
print(agent)
' 2>/dev/null
}

if ! agent=$(find_rotel_agent); then
    echo "rotel-agent: not on PATH, and ${PYTHON:-python3} has no rotel package with it;" >&2
    echo "install it (pip install rotel) or set PYTHON to the interpreter that has it" >&2
    exit 127
fi

# Per-signal endpoints are full URLs in rotel-agent: the signal path is added here.
set -- \
    --otlp-grpc-endpoint "$OTLP_GRPC_LISTEN" \
    --otlp-http-endpoint "$OTLP_HTTP_LISTEN" \
    --batch-timeout "$BATCH_TIMEOUT" \
    --batch-max-size "$BATCH_MAX_SIZE" \
    --exporter otlp \
    --otlp-exporter-protocol http \
    --otlp-exporter-compression gzip \
    --otlp-exporter-traces-endpoint "${TRACES_BACKEND_ENDPOINT%/}/v1/traces" \
    --otlp-exporter-metrics-endpoint "${METRICS_BACKEND_ENDPOINT%/}/v1/metrics" \
    --otlp-exporter-logs-endpoint "${LOGS_BACKEND_ENDPOINT%/}/v1/logs" \
    "$@"
if [ -n "$BACKEND_HEADERS" ]; then
    set -- --otlp-exporter-custom-headers "$BACKEND_HEADERS" "$@"
fi

# exec: rotel-agent gets SIGTERM/SIGINT itself and sends what it holds before it exits.
exec "$agent" start "$@"
