# Thin wrapper: the logic lives in scripts/ and course_helpers/.
PY := .venv/bin/python
PORT ?= 8888

.PHONY: lab test setup engine lint bench clean cleanup notebooks record

lab:
	@scripts/setup.sh lab
	@scripts/lab.sh $(PORT)

test:
	@scripts/setup.sh test
	$(PY) -m ruff check .
	$(PY) -m pytest tests notebooks --nbval --nbval-sanitize-with tests/sanitize.cfg

setup:
	@scripts/setup.sh test

engine:
	@scripts/engine.sh

lint:
	$(PY) -m ruff check .

bench:
	@scripts/setup.sh test
	$(PY) bench/modes.py
	$(PY) bench/notebooks.py
	$(PY) bench/replay.py

# Re-record the replay recordings (needs a live engine); commit course_helpers/recordings/.
record:
	@scripts/setup.sh test
	$(PY) -m course_helpers record

# Re-execute every notebook in place so stored outputs come from a clean run.
notebooks:
	@scripts/setup.sh test
	COURSE_BACKEND=live $(PY) -m jupyter nbconvert --to notebook --execute --inplace notebooks/*.ipynb

cleanup:
	$(PY) -m course_helpers cleanup

clean:
	rm -rf .venv .pytest_cache .ruff_cache artifacts
