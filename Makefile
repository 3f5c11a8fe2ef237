# Two commands on a fresh machine with only python3: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test lint typecheck unit bench package clean

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

demo: $(VENV)/.installed-demo
	$(VENV)/bin/cascadeflow-cloud demo --dir demo-output

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check shared functions tests benchmarks

typecheck: $(VENV)/.installed-dev
	$(VENV)/bin/mypy

unit: $(VENV)/.installed-dev
	$(PY) -m pytest -n 2 --dist loadfile

test: lint typecheck unit

# make bench [QUICK=1] [BENCH="bench_lake bench_imports"]: writes benchmarks/results/latest.{md,json}
bench: $(VENV)/.installed-dev
	$(PY) -m benchmarks.run $(if $(QUICK),--quick) $(BENCH)

clean:
	rm -rf $(VENV) demo-output dist .pytest_cache .mypy_cache .ruff_cache
