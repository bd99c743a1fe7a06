# zeroshot-distill: the two commands are `make install run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
# CPU build by default. For CUDA, e.g.: make install TORCH_SPEC="torch==2.13.0 --index-url <CUDA wheel index>"
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
PIPELINE ?= distill
# The demo task of `make run`: review sentiment on the bundled 900-row sample, which the tiny
# from-scratch student learns in minutes (it cannot learn NLI from the 240-row NLI sample).
# `make run RUN_PARAMS=` runs conf/base as it is (NLI).
RUN_PARAMS ?= task_name=text_classification,raw_file=sentiment_sample.jsonl,predict_file=sentiment_sample.jsonl

# Recipes find the environment's tools (kedro, mlflow, kedro-viz) without activating it:
# `kedro mlflow ui` starts `mlflow` from PATH.
export PATH := $(abspath $(BIN)):$(PATH)

export KEDRO_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1

# make serve: the student to serve (a run id, logged model id or folder; empty: the latest
# logged student) and the port of http://127.0.0.1:$(PORT)/invocations.
STUDENT ?=
PORT ?= 5001

.PHONY: install run serve compare test test-fast lint format viz viz-build mlflow-ui sample-data benchmarks clean

install:  ## create .venv and install torch (TORCH_SPEC) + the project with dev tools
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install $(TORCH_SPEC)
	$(BIN)/python -m pip install -e ".[dev]"

run:  ## run the distillation chain (PIPELINE=distill by default) with conf/base on the demo task
	$(BIN)/kedro run --pipelines=$(PIPELINE) $(if $(RUN_PARAMS),--params $(RUN_PARAMS))

serve:  ## serve a student over HTTP (MLflow scoring server): STUDENT=<run id or path>, PORT=5001
	$(BIN)/python -m zeroshot_distill.serving --port $(PORT) $(if $(STUDENT),--student $(STUDENT))

compare:  ## the chain up to subsampling, then every student of parameters_compare_students.yml on that one training set
	$(BIN)/kedro run --pipelines=data_processing,prompt_optimization,annotation,subsampling,compare_students $(if $(RUN_PARAMS),--params $(RUN_PARAMS))

test:  ## the full test suite, slow end-to-end tests included (what CI runs)
	$(BIN)/python -m pytest

test-fast:  ## the test suite without the slow end-to-end tests
	$(BIN)/python -m pytest -m "not slow"

lint:  ## ruff, and the import contracts (the layers; see pyproject.toml [tool.importlinter])
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/lint-imports --no-cache

format:
	$(BIN)/ruff check --fix src tests benchmarks tools
	$(BIN)/ruff format src tests benchmarks tools

viz:  ## the pipeline graph at http://127.0.0.1:4141
	$(BIN)/kedro viz run

viz-build:  ## the pipeline graph as a static site in build/, with dataset previews
	$(BIN)/kedro viz build --include-previews

mlflow-ui:  ## the MLflow UI at http://127.0.0.1:5000
	$(BIN)/kedro mlflow ui

sample-data:  ## regenerate the bundled sample data in data/01_raw
	$(BIN)/python tools/sample_data/generate.py --out data/01_raw

benchmarks:
	$(BIN)/python benchmarks/annotation_throughput.py
	$(BIN)/python benchmarks/training_throughput.py
	$(BIN)/python benchmarks/label_scoring.py
	$(BIN)/python benchmarks/lora_memory.py
	$(BIN)/python benchmarks/causal_label_scoring.py
	$(BIN)/python benchmarks/onnx_export.py
	$(BIN)/python benchmarks/predict_throughput.py

clean:  ## remove run outputs (keeps data/01_raw and the venv)
	find data -mindepth 2 -not -path 'data/01_raw/*' -not -name .gitkeep -delete
	rm -rf mlflow.db mlartifacts
