# groeiruimte — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
OIDC_PROVIDER := tests/oidc_provider/node_modules

.PHONY: install run test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install ## start the whole system on the embedded default (SQLite under var/)
	$(VENV)/bin/groeiruimte run

test: install lint $(OIDC_PROVIDER) ## lint, type-check and run every test
	$(PY) -m pytest -q

# The real OpenID Connect provider the sign-in tests start (Node.js, from the lock file). Without npm
# those tests skip with a hint; with GROEIRUIMTE_REQUIRE_BROWSER=1 (CI) they fail.
$(OIDC_PROVIDER): tests/oidc_provider/package.json tests/oidc_provider/package-lock.json
	@if command -v npm >/dev/null 2>&1; then cd tests/oidc_provider && npm ci --no-audit --no-fund && touch node_modules; \
	else echo "npm not found: the real OIDC provider tests will skip (install Node.js >= 20.19 with npm)"; fi

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy events workflows services

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: bench-full

bench: install ## benchmarks against their baselines, quick sizes (under 3 minutes); needs PostgreSQL
	$(PY) -m bench.run --quick

bench-full: install ## the benchmarks at issue 7's sizes (1M-event rebuild, 100k leads / 10M events)
	$(PY) -m bench.run --full

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
