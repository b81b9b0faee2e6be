# Set-up in two commands: `make demo` and `make test`. Both create .venv as needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_STORE := $(CURDIR)/.demo/store

.PHONY: demo test lint typecheck unit clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	rm -rf $(DEMO_STORE)
	@echo "== running examples/agent_app.py under opentelemetry-instrument (store: $(DEMO_STORE))"
	TELEMETRY_BASE_DIR=$(DEMO_STORE) OTEL_SERVICE_NAME=demo-agent TELEMETRY_LOG_BRIDGE=true \
		$(BIN)/opentelemetry-instrument $(BIN)/python examples/agent_app.py
	@echo "== files written (OTLP JSON Lines, one export request per line)"
	@ls -l $(DEMO_STORE)/traces $(DEMO_STORE)/metrics $(DEMO_STORE)/logs
	@echo "== otel-distro stats"
	$(BIN)/otel-distro --base-dir $(DEMO_STORE) stats
	@echo "== otel-distro trace last"
	$(BIN)/otel-distro --base-dir $(DEMO_STORE) trace last
	@echo "== otel-distro compliance"
	$(BIN)/otel-distro --base-dir $(DEMO_STORE) compliance

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

unit: $(VENV)/.installed-dev
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(VENV)/.installed-dev
	$(BIN)/python tests/benchmarks/bench_pipeline.py
	$(BIN)/python tests/benchmarks/bench_startup.py
	$(BIN)/python tests/benchmarks/pii_quality.py
	$(BIN)/python tests/benchmarks/bench_presidio.py
	$(BIN)/python tests/benchmarks/bench_worst_case.py
	$(BIN)/python tests/benchmarks/bench_conversation_log.py

clean:
	rm -rf $(VENV) .demo .mypy_cache .ruff_cache .pytest_cache
