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

# The main job on the generated sample: a short BGMv2 run on CPU (generates the data on first use).
train: setup
	$(PY) train.py model=bgmv2 data=videomatte_sample trainer=cpu

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
