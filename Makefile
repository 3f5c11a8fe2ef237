# Two commands on a fresh machine with only python3: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test test-fast lint lint-imports typecheck unit bench package checkov focus-venv \
	focus-validate browser clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=23.2"

# Re-install only when pyproject.toml changes (stamp files per dependency set).
$(VENV)/.installed-demo: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[all]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed-demo

# Re-running rebuilds demo-output/lake in place (the same lake, the same showcase alerts).
demo: $(VENV)/.installed-demo
	$(VENV)/bin/cascadeflow-cloud demo --dir demo-output
	@echo "The command line is $(VENV)/bin/cascadeflow-cloud (or: source $(VENV)/bin/activate)"

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check shared functions tests benchmarks infra

# the layer contracts of docs/architecture.md ([tool.importlinter] in pyproject.toml)
lint-imports: $(VENV)/.installed-dev
	$(VENV)/bin/lint-imports --no-cache

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy

unit: $(VENV)/.installed-dev
	$(PY) -m pytest -n 2 --dist loadfile --ignore=$(FOCUS_TEST)

test: lint lint-imports typecheck checkov focus-validate browser unit

# The edit-test loop: every test but those marked slow (tests/conftest.py SLOW_TESTS), after
# lint, import layers and types; `make test` (CI) runs everything.
test-fast: lint lint-imports typecheck
	$(PY) -m pytest -n 2 --dist loadfile -m "not slow" --ignore=$(FOCUS_TEST)

# make bench [QUICK=1] [BENCH="bench_lake bench_imports"]: writes benchmarks/results/latest.{md,json}
bench: $(VENV)/.installed-dev
	$(PY) -m benchmarks.run $(if $(QUICK),--quick) $(BENCH)

# Lambda artifacts (dist/*.zip, dist/manifest.json): Linux wheels for python3.11 x86_64.
# Needs only the venv's Python (3.11, to match the runtime's byte-code) and pip.
package: | $(PY)
	$(PY) infra/package.py

# checkov in its own venv (its pins clash with the project's), version pinned; fails on any
# failed check, and on a scan smaller than infra/.checkov-floor.json (infra/checkov_floor.py:
# checkov once silently stopped scanning a root); the skip list with reasons is infra/.checkov.yaml.
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV    := .venv-checkov
$(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION):
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet "checkov==$(CHECKOV_VERSION)"
	touch $@

checkov: $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov -d infra --framework terraform --quiet \
		--compact --skip-download --config-file infra/.checkov.yaml \
		-o cli -o json --output-file-path console,build/checkov.json
	$(PYTHON) infra/checkov_floor.py build/checkov.json
	@if command -v terraform >/dev/null 2>&1; then TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive infra; fi

# The FinOps Foundation's focus-validator (FOCUS 1.2) in its own venv: it needs Python >= 3.12
# (found on PATH or under pyenv) and pins numpy<2, so pyarrow<22 beside it. focus-validate runs
# it offline on the demo's FOCUS export (CSV and Parquet); JUnit XML in build/focus-validator/.
FOCUS_VALIDATOR_VERSION := 2.2.1
FOCUS_VENV := .venv-focus
FOCUS_TEST := tests/exports/test_focus_validator.py
FOCUS_PYTHON ?= $(firstword $(shell for p in python3.13 python3.12 \
	$$(pyenv root 2>/dev/null)/versions/3.1[2-9]*/bin/python3 \
	/root/.pyenv/versions/3.1[2-9]*/bin/python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
	2>/dev/null && command -v $$p; done))
$(FOCUS_VENV)/.installed-$(FOCUS_VALIDATOR_VERSION):
	@test -n "$(FOCUS_PYTHON)" || { echo "focus-validator needs Python >= 3.12: install python3.12 \
	(e.g. pyenv install 3.12) or set FOCUS_PYTHON=/path/to/python3.12" >&2; exit 1; }
	rm -rf $(FOCUS_VENV)
	$(FOCUS_PYTHON) -m venv $(FOCUS_VENV)
	$(FOCUS_VENV)/bin/pip install --quiet "focus-validator==$(FOCUS_VALIDATOR_VERSION)" "pyarrow<22"
	touch $@

focus-venv: $(FOCUS_VENV)/.installed-$(FOCUS_VALIDATOR_VERSION)

focus-validate: focus-venv $(VENV)/.installed-dev
	$(PY) -m pytest $(FOCUS_TEST)

# Headless Chromium for the dashboard's browser tests (tests/dashboard/): Debian's chromium and
# chromium-driver, installed only when missing (needs root or sudo), and selenium in the venv.
browser: $(VENV)/.installed-dev
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends \
			chromium chromium-driver; \
	fi

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(FOCUS_VENV) demo-output dist .pytest_cache .mypy_cache .ruff_cache
