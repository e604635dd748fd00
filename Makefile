# Thin wrapper: the logic lives in scripts/, book/ and course_helpers/.
PY := .venv/bin/python
PORT ?= 8888
PYTEST := $(PY) -m pytest
# nbval over notebooks/, with the shared set-up of tests/conftest.py (live backend, no
# MPLBACKEND reaching the kernels, the leak check), which pytest loads only under tests/.
NBVAL := -p tests.conftest --nbval --nbval-sanitize-with tests/sanitize.cfg

# The stages of `make test`, in order; each one also runs alone (`make unit`, ...).
STAGES := lint unit live notebooks browser engines

.PHONY: lab test setup engine bench clean cleanup record record-all book store-outputs \
        $(STAGES) ready-venv ready-engine ready-all
# Stages run one after the other even under `make -j`: the first failing one stops `make test`.
.NOTPARALLEL:

lab:
	@scripts/setup.sh lab
	@scripts/lab.sh $(PORT)

# Everything: the whole set-up first (apt, engine, Chromium, image), then every stage.
test: ready-all
	@scripts/stage.sh run $(STAGES)

# What each stage needs set up (idempotent; a second run redoes nothing).
# `make test` has done the whole set-up once already and sets DNC_READY=1 for its stages.
ready-venv:
	@[ "$${DNC_READY:-}" = 1 ] || scripts/setup.sh venv
ready-engine:
	@[ "$${DNC_READY:-}" = 1 ] || scripts/setup.sh engine
ready-all:
	@[ "$${DNC_READY:-}" = 1 ] || scripts/setup.sh test

# -- the stages ----------------------------------------------------------------------
# lint: ruff over the package, tests, scripts and notebooks.
lint: ready-venv
	@scripts/stage.sh lint $(PY) -m ruff check .

# unit: tests/unit only: no engine, no browser, no apt (a fresh clone with the venv).
unit: ready-venv
	@scripts/stage.sh unit $(PYTEST) tests/unit

# live: the helpers on the real engine, then replay (recordings, simulated Binder).
live: ready-engine
	@scripts/stage.sh live $(PYTEST) tests/live tests/replay \
	  --deselect tests/replay/test_recordings.py::test_recordings_agree_with_the_live_engine

# notebooks: every chapter re-executed by nbval, outputs compared through the sanitizer.
# Each chapter's Lab also writes what it asked the engine (COURSE_RECORD_DIR): the shipped
# recordings are then compared with that fresh run, without executing the notebooks twice.
FRESH := $(CURDIR)/artifacts/fresh-recordings
notebooks: ready-engine
	@rm -rf $(FRESH)
	@COURSE_RECORD_DIR=$(FRESH) scripts/stage.sh notebooks $(PYTEST) notebooks $(NBVAL)
	@DNC_FRESH_RECORDINGS=$(FRESH) scripts/stage.sh recordings $(PYTEST) \
	  tests/replay/test_recordings.py::test_recordings_agree_with_the_live_engine

# browser: JupyterLab driven by Chromium, then the rendered book (a pytest run of its own:
# Playwright's sync API allows one driver per process at a time).
browser: ready-all book
	@scripts/stage.sh browser $(PYTEST) tests/browser
	@scripts/stage.sh browser-book $(PYTEST) tests/book

# engines: the engine matrix (tests/engines).
engines: ready-engine
	@scripts/stage.sh engines $(PYTEST) tests/engines

setup:
	@scripts/setup.sh test

engine:
	@scripts/engine.sh

# The rendered book (static HTML from the notebooks' stored outputs; nothing executes).
book: ready-venv
	@scripts/book.sh

bench:
	@scripts/setup.sh test
	$(PY) bench/modes.py
	$(PY) bench/notebooks.py
	$(PY) bench/replay.py
	$(PY) bench/figures.py

# Re-record the replay recordings (needs a live engine); commit course_helpers/recordings/.
record:
	@scripts/setup.sh test
	$(PY) -m course_helpers record

# Both shipped sets: Engine 28.5 (sid, the default replay) and this machine's 20.10.
record-all:
	@scripts/setup.sh test
	$(PY) tests/engines/harness.py run sid $(PY) -m course_helpers record
	$(PY) -m course_helpers record

# Re-execute every notebook in place so stored outputs come from a clean run.
store-outputs:
	@scripts/setup.sh test
	COURSE_BACKEND=live $(PY) -m jupyter nbconvert --to notebook --execute --inplace notebooks/*.ipynb

cleanup:
	$(PY) -m course_helpers cleanup

clean:
	rm -rf .venv .pytest_cache .ruff_cache artifacts build
