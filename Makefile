# The two commands of the README. Each installs uv (with pip) and syncs the workspace itself.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
export UV_LINK_MODE := copy
export NO_MKDOCS_2_WARNING := 1

.PHONY: setup demo test docs bench release clean

setup:
	@command -v uv >/dev/null 2>&1 || [ -x "$(UV)" ] || $(PYTHON) -m pip install -q --user uv || $(PYTHON) -m pip install -q uv
	@$(UV) sync --all-packages --all-extras --compile-bytecode -q
	@$(UV) run --no-sync python -m compileall -q packages/*/src >/dev/null

demo: setup
	cd examples/01-hello-shell && $(UV) run --no-sync stepline execute pipeline.yaml

test: setup
	$(UV) run --no-sync pytest packages tests-integration --durations=25
	$(UV) run --no-sync mkdocs build --strict -q -d .ci-state/site

docs: setup
	$(UV) run --no-sync mkdocs serve -a 127.0.0.1:8000

# The issue-19 figures, current tree against the previous release (docs/performance.md);
# add the runnable peer with: make bench BENCH_ARGS="--peer runnable==0.50.0"
bench: setup
	$(UV) run --no-sync python bench/bench_compare.py $(BENCH_ARGS)

# Build every sdist and wheel into dist/, twine check --strict, smoke-test each extra alone
# (docs/releasing.md says how a release is cut).
release: setup
	$(UV) run --no-sync python tools/release.py

clean:
	rm -rf .ci-state .stepline site dist
