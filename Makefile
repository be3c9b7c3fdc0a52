# Set-up and everyday commands. `make test` works from a fresh clone: it builds .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup train test test-all lint format bench-metrics clean

setup: $(STAMP)

# torch/torchvision first and pinned: an unpinned torch pulls the newest multi-GB build.
$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt torch torchvision
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(PY) -c "import pymatting"  # compiles and caches its numba kernels once (~1 min)
	touch $@

# The main job on the generated sample: BGMv2 stage 1 learning it on CPU in a few minutes
# (generates the data on first use; conf/experiment/bgmv2_sample.yaml says what it changes).
train: setup
	$(PY) train.py experiment=bgmv2_sample

test: setup
	$(PY) -m pytest -q

test-all: setup
	$(PY) -m pytest -q --runslow

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench-metrics: setup
	$(PY) -m benchmarks.metrics_speed

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
