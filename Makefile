# Two commands set up everything on a fresh machine: `make run` and `make test`.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
PIP     := $(BIN)/python -m pip
export PYTHONHASHSEED := 0
export XLA_FLAGS := --xla_force_host_platform_device_count=1

.PHONY: run test bench lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e ".[dev,cluster]"
	touch $@

# torch first, pinned, so pip takes the CPU build before stable-baselines3 asks for it.
$(VENV)/.bench: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[bench]"
	touch $@

run: $(VENV)/.core
	$(BIN)/shardlab reproduce

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=10

# imitation 1.0.1 pins gymnasium ~0.29 and Stable-Baselines3 ~2.2.1: its own virtualenv, timed
# against shardlab by `shardlab bench values` in the same run.
.venv-imitation/.done:
	$(PY) -m venv .venv-imitation
	.venv-imitation/bin/pip install --quiet --upgrade pip
	.venv-imitation/bin/pip install --quiet torch==2.13.0
	.venv-imitation/bin/pip install --quiet imitation==1.0.1
	touch $@

bench: $(VENV)/.bench .venv-imitation/.done
	$(BIN)/shardlab bench all

lint: $(VENV)/.dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .venv-imitation runs .pytest_cache
