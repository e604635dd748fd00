# Thin wrapper: the logic lives in scripts/ and course_helpers/.
PY := .venv/bin/python
PORT ?= 8888

.PHONY: lab test setup engine lint bench clean cleanup

lab:
	@scripts/setup.sh lab
	@scripts/lab.sh $(PORT)

test:
	@scripts/setup.sh test
	$(PY) -m ruff check .
	$(PY) -m pytest tests notebooks --nbval --sanitize-with tests/sanitize.cfg

setup:
	@scripts/setup.sh test

engine:
	@scripts/engine.sh

lint:
	$(PY) -m ruff check .

bench:
	@scripts/setup.sh test
	$(PY) bench/modes.py

cleanup:
	$(PY) -m course_helpers cleanup

clean:
	rm -rf .venv .pytest_cache .ruff_cache artifacts
