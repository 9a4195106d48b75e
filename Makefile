# Two commands set everything up on a fresh machine:
#   make demo   the main job: the end-to-end story on the embedded defaults (SQLite + local chroma)
#   make test   the test suite (what .ci/run calls)
# Each creates .venv and installs what it needs on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SHARED ?= ../shared
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint dogfood seed-model prometheus postgresql clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# Offline machines cannot download chroma's embedding model; seed its cache from ../shared when present.
seed-model:
	@if [ -x "$(SHARED)/models/seed-chroma-cache.sh" ] || [ -f "$(SHARED)/models/seed-chroma-cache.sh" ]; then \
		sh "$(SHARED)/models/seed-chroma-cache.sh"; fi

# The SLO and canary tests run a real Prometheus (the Debian package: prometheus + promtool).
# Installed when missing and we are root with apt-get (CI); otherwise those tests skip and say why.
# RUNLEVEL=1 keeps the package's own service from being started: tests run their own server.
prometheus:
	@command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1; \
			apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends prometheus >/dev/null </dev/null \
			|| { echo "could not install prometheus" >&2; exit 1; }; \
		else echo "prometheus not installed (apt-get install prometheus as root): its tests will skip" >&2; fi; }

# The team-mode tests run a real PostgreSQL (the Debian package: initdb + pg_ctl in a temp dir),
# installed the same way; the package's own cluster and service are not used.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			export DEBIAN_FRONTEND=noninteractive RUNLEVEL=1; \
			apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends postgresql >/dev/null </dev/null \
			|| { echo "could not install postgresql" >&2; exit 1; }; \
		else echo "postgresql not installed (apt-get install postgresql as root): its tests will skip" >&2; fi; }

demo: $(STAMP) seed-model
	$(VENV)/bin/devops demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The project runs its own tools on itself and on the sample service; each line states the
# exit code it expects (the sample service has deliberate gaps and a risky plan).
dogfood: $(STAMP)
	$(VENV)/bin/devops ci audit . --fail-on medium
	$(VENV)/bin/devops readiness . --format md --output /dev/null; test $$? -le 1
	$(VENV)/bin/devops readiness examples/sample-service --format md --output /dev/null; test $$? -eq 1
	$(VENV)/bin/devops iac review examples/sample-service/infra/plan.json --format md > /dev/null; test $$? -eq 4
	$(VENV)/bin/devops iac lint examples/sample-service/infra --fail-on critical

test: $(STAMP) seed-model prometheus postgresql
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory dogfood
	$(PY) -m pytest -q -n 2 --dist loadfile

bench: $(STAMP) seed-model prometheus postgresql
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
