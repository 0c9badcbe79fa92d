# Sawti — `make run` starts the service locally; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := app.py

.PHONY: run test test-postgres lint browser-deps bench-intake bench-reports bench-console bench eval-triage train-triage eval-faq translations clean fuzz audit

$(VENV)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# SAWTI_FAKE_PROVIDERS=1 also starts local fake Telegram and Twilio servers and a "phone"
# page (http://127.0.0.1:5090) to play a Telegram, WhatsApp or SMS user offline.
run: $(VENV)/.runtime
	$(BIN)/flask db upgrade
ifeq ($(SAWTI_FAKE_PROVIDERS),1)
	set -a && eval "$$(PUBLIC_URL=http://127.0.0.1:$(PORT) $(BIN)/python -m tests.fakes.serve --print-env)" \
		&& set +a && PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.fakes -p $(PORT)
else
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile -p $(PORT)
endif

test: $(VENV)/.dev browser-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# The same suite in production mode: PostgreSQL (one schema per test in a fresh database) and
# Redis (a database of the suite's own, emptied before each test; REDIS_URL set for every app).
PG_ADMIN_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
PG_TEST_DB ?= sawti_test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/14
test-postgres: $(VENV)/.dev
	psql "$(PG_ADMIN_URL)" -q -c "DROP DATABASE IF EXISTS $(PG_TEST_DB)" -c "CREATE DATABASE $(PG_TEST_DB)"
	SAWTI_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/$(PG_TEST_DB)" \
	SAWTI_TEST_REDIS_URL="$(TEST_REDIS_URL)" \
		$(BIN)/python -m pytest --ignore=tests/browser

lint: $(VENV)/.dev
	$(BIN)/ruff check .

# Property-based fuzzing of every webhook, the dialogue and the reference parser, at length
# (`make test` runs the same tests with a bounded number of examples).
fuzz: $(VENV)/.dev
	SAWTI_FUZZ_PROFILE=fuzz $(BIN)/python -m pytest tests/fuzz

# Static and supply-chain checks: ruff, bandit (no high findings), pip-audit (skipped with a
# message when the advisory data cannot be reached).
audit: $(VENV)/.dev
	$(BIN)/python scripts/audit.py

browser-deps:
	scripts/ensure-chromium

bench-intake: $(VENV)/.dev
	scripts/ensure-wrk
	$(BIN)/python bench/intake.py $(ARGS)

# The monthly report (100,000 cases) and a year's dashboard on PostgreSQL (127.0.0.1:5432);
# drops and recreates the database sawti_bench_reports. ARGS=--keep reuses its data.
bench-reports: $(VENV)/.dev
	$(BIN)/python bench/reports.py $(ARGS)

# The console's queue with 200,000 cases and 1,000,000 messages on SQLite and PostgreSQL
# (127.0.0.1:5432; drops and recreates the database sawti_bench). ARGS=--keep reuses its data,
# e.g. ARGS="--db sqlite --keep".
bench-console: $(VENV)/.dev
	$(BIN)/python bench/console.py $(ARGS)

# Issue 9's scale run, on PostgreSQL (127.0.0.1:5432; drops and recreates sawti_bench_scale):
# 1,000,000 cases / 3,000,000 messages, webhook throughput and latency with 2 and 4 gunicorn
# workers against the no-op ceiling, the dispatcher with 1 and 2 workers, console pages, peak
# memory. ARGS=--keep reuses its data; e.g. ARGS="--cases 20000" for a quick run.
bench: $(VENV)/.dev
	scripts/ensure-wrk
	$(BIN)/python bench/scale.py $(ARGS)

# The triage assistant's recall and precision on tests/data (add --misses to see its errors).
eval-triage: $(VENV)/.dev
	$(BIN)/python scripts/eval_triage.py $(ARGS)

# Retrain the triage assistant's statistical model (config/triage_model.json) from tests/data.
train-triage: $(VENV)/.dev
	$(BIN)/python scripts/train_triage_model.py $(ARGS)

# The information line's matching precision and recall on tests/data/faq_*.csv.
eval-faq: $(VENV)/.dev
	$(BIN)/python scripts/eval_faq.py $(ARGS)

# After changing a string a person reads: extract, merge into ar/en, translate ar, compile.
translations: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k _ -k ngettext:1,2 -k lazy_ngettext:1,2 -k _l --no-location --sort-output \
		--ignore-dirs='.venv tests bench migrations' -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d translations --statistics

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
