# The commands of this project. `make run` and `make test` work on a new machine.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup run test test-fast lint demo chaos bench clean

setup:
	bash scripts/setup.sh

run: setup
	$(BIN)/glbridge up

test: setup
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy shared services glbridge

demo: setup
	$(BIN)/glbridge demo

clean:
	rm -rf $(VENV) artifacts .pytest_cache .mypy_cache .ruff_cache
