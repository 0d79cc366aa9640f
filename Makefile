# The commands of this project. `make run` and `make test` work on a new machine.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup run test test-unit lint demo chaos bench clean mutation

setup:
	bash scripts/setup.sh

run: setup
	$(BIN)/glbridge up

# Four workers (pytest-xdist): the tests mostly wait on real processes. A worker that
# runs out of tests takes some of another's (`worksteal`), so a run does not end on one
# worker's queue of slow tests. Every process the tests start is measured (coverage's
# subprocess patch); the combined figures are printed at the end, the pytest exit
# status kept.
test: setup
	@rm -rf artifacts/coverage && mkdir -p artifacts/coverage
	$(BIN)/coverage run -m pytest -q -n 4 --dist worksteal; status=$$?; \
	  $(BIN)/coverage combine -q && $(BIN)/python scripts/coverage_summary.py; exit $$status

# Mutation testing of the pure rules (docs/testing.md); long, not part of `make test`.
mutation: setup
	rm -rf mutants
	GLBRIDGE_EXAMPLES_SCALE=0.1 $(BIN)/mutmut run --max-children 2; $(BIN)/python scripts/mutation_summary.py

# The tests that need no RabbitMQ, PostgreSQL or service process (marked in tests/conftest.py).
test-unit:
	bash scripts/setup.sh venv
	$(BIN)/pytest -q -m unit -n 2

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy shared services glbridge bench tests

demo: setup
	$(BIN)/glbridge demo

# Several minutes: prints the table, writes bench/results/latest.json and latest.png.
bench: setup
	$(BIN)/python -m bench

# 2,000 days through the system while services are killed and the broker and database
# restart; exits non-zero if any day is lost or duplicated.
chaos: setup
	$(BIN)/python -m bench.chaos

clean:
	rm -rf $(VENV) artifacts mutants .pytest_cache .mypy_cache .ruff_cache
