# Set-up in two commands: `make demo` and `make test`. Both create .venv as needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_STORE := $(CURDIR)/.demo/store

.PHONY: demo test lint typecheck unit clean bench test-instrumentations test-sdk-matrix test-backends

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
	$(BIN)/python tests/benchmarks/bench_serve.py --spans 200000

# Real GenAI instrumentations against local fake servers, one venv per family (they cannot
# share one: opentelemetry-instrument loads every instrumentor it finds). Each venv holds the
# distro (editable) plus tests/instrumentations/requirements/<family>.txt, and is rebuilt only
# when that file, base.txt or pyproject.toml changed (stamp: .venvs/<family>/.installed).
FAMILY_VENVS := .venvs
FAMILY_REQUIREMENTS := tests/instrumentations/requirements
FAMILIES := genai-openai genai-anthropic openllmetry openllmetry-indexed openinference genai-openai+openllmetry

$(FAMILY_VENVS)/%/.installed: $(FAMILY_REQUIREMENTS)/%.txt $(FAMILY_REQUIREMENTS)/base.txt pyproject.toml
	rm -rf $(FAMILY_VENVS)/$*
	$(PYTHON) -m venv $(FAMILY_VENVS)/$*
	$(FAMILY_VENVS)/$*/bin/python -m pip install -q --no-compile -e . -r $(FAMILY_REQUIREMENTS)/$*.txt
	touch $@

# One venv after another (pip builds the editable distro in this tree: not two at once); then
# in each, the connect audit (tests/support/connect_audit.py, off unless a test turns it on)
# is copied in afresh and the same test module runs, every family even when one fails; the
# target fails if any did.
test-instrumentations: $(foreach family,$(FAMILIES),$(FAMILY_VENVS)/$(family)/.installed)
	@failed=""; for family in $(FAMILIES); do \
		echo "== instrumentation family $$family"; \
		$(FAMILY_VENVS)/$$family/bin/python tests/support/connect_audit.py || exit 1; \
		TEST_INSTRUMENTATION_FAMILY=$$family $(FAMILY_VENVS)/$$family/bin/python -m pytest -q \
			-p no:cacheprovider tests/instrumentations || failed="$$failed $$family"; \
	done; \
	if [ -n "$$failed" ]; then echo "== failed families:$$failed"; exit 1; fi

# The core suite on the oldest and newest OpenTelemetry line pyproject.toml accepts, one venv
# each (tests/sdk_matrix/sdk-<line>.txt pins the OTel packages; rebuilt when it changes).
SDK_LINES := 1.40 1.45
SDK_CORE := tests/unit tests/integration/test_zero_code.py tests/integration/test_privacy.py \
	tests/integration/test_configure.py tests/integration/test_robustness.py \
	tests/integration/test_early_providers.py tests/integration/test_log_bridge.py

$(FAMILY_VENVS)/sdk-%/.installed: tests/sdk_matrix/sdk-%.txt pyproject.toml
	rm -rf $(FAMILY_VENVS)/sdk-$*
	$(PYTHON) -m venv $(FAMILY_VENVS)/sdk-$*
	$(FAMILY_VENVS)/sdk-$*/bin/python -m pip install -q --no-compile -c tests/sdk_matrix/sdk-$*.txt \
		-e . -r tests/sdk_matrix/sdk-$*.txt pytest faker pyyaml wheel rotel==0.0.1a15
	touch $@

test-sdk-matrix: $(foreach line,$(SDK_LINES),$(FAMILY_VENVS)/sdk-$(line)/.installed)
	@failed=""; for line in $(SDK_LINES); do \
		echo "== OpenTelemetry SDK $$line"; \
		$(FAMILY_VENVS)/sdk-$$line/bin/python -m pytest -q -p no:cacheprovider $(SDK_CORE) \
			|| failed="$$failed $$line"; \
	done; \
	if [ -n "$$failed" ]; then echo "== failed SDK lines:$$failed"; exit 1; fi

# Real backends (tests/backends): Arize Phoenix from its own venv (.venvs/phoenix, rebuilt only when
# tests/backends/requirements/phoenix.txt changes). Phoenix's OTLP/gRPC receiver binds every
# interface and cannot be turned off, so the tests run in a network namespace with the loopback
# interface only (unshare --net; --map-root-user when not root): nothing else can reach Phoenix.
PHOENIX_VENV := $(FAMILY_VENVS)/phoenix

$(PHOENIX_VENV)/.installed: tests/backends/requirements/phoenix.txt
	rm -rf $(PHOENIX_VENV)
	$(PYTHON) -m venv $(PHOENIX_VENV)
	$(PHOENIX_VENV)/bin/python -m pip install -q --no-compile -r tests/backends/requirements/phoenix.txt
	touch $@

test-backends: $(VENV)/.installed-dev $(PHOENIX_VENV)/.installed
	unshare --net $$([ "$$(id -u)" = 0 ] || echo --map-root-user) sh -c '\
		ip link set lo up && TEST_BACKENDS=1 PHOENIX_BIN=$(CURDIR)/$(PHOENIX_VENV)/bin/phoenix \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/backends'

clean:
	rm -rf $(VENV) $(FAMILY_VENVS) .demo .mypy_cache .ruff_cache .pytest_cache
