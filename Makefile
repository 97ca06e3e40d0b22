# Two commands: `make run` (install, models, index, start) and `make test` (install, run the tests).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test test-fast install models index lint bench eval clean-index chromium

# The web app (chat, search, publications); it prints its local URL. `assistant27 ask` stays the terminal chat.
SERVE_ARGS ?=
run: index
	$(BIN)/assistant27 serve $(SERVE_ARGS)

# The browser tests drive Debian's Chromium through Playwright; Playwright's own browser download is never used.
chromium:
	command -v chromium || (apt-get update && apt-get install -y chromium)

# Nothing compiles: llama.cpp comes as xllamacpp's prebuilt wheel. benchmarks/first_run.py times a fresh clone's first run.
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -c requirements.lock -e '.[local,dev]'
	touch $(STAMP)

install: $(STAMP)

models: install
	$(BIN)/assistant27 setup

index: models
	$(BIN)/assistant27 ingest --if-needed

# Every test (CI): the real models, the browser, the kill and load tests included.
test: models chromium
	$(BIN)/python -m pytest

# The tests without models, browser, kills or load (`-m "not slow"`): under a minute on 2 cores.
test-fast: install
	$(BIN)/python -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check src tests app benchmarks evals
	$(BIN)/mypy src

bench: index
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# The evaluation suite (evals/suite.json: our set's tuning and held-out parts, the hard unanswerables, the second
# corpus) with the local generator (about 5 s a question on 2 cores); EVAL_GENERATOR=extractive for the quick one.
EVAL_GENERATOR ?= local
eval: index
	$(BIN)/assistant27 eval --suite evals/suite.json --generator $(EVAL_GENERATOR) --out evals/reports/$$(date +%F)-suite-$(EVAL_GENERATOR)

clean-index:
	rm -rf index/chroma index/manifest.json
