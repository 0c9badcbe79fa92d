# Sawti — `make run` starts the service locally; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := app.py

.PHONY: run test test-postgres lint browser-deps bench-intake translations clean

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

# The same suite on PostgreSQL (one schema per test in a fresh database).
PG_ADMIN_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
PG_TEST_DB ?= sawti_test
test-postgres: $(VENV)/.dev
	psql "$(PG_ADMIN_URL)" -q -c "DROP DATABASE IF EXISTS $(PG_TEST_DB)" -c "CREATE DATABASE $(PG_TEST_DB)"
	SAWTI_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/$(PG_TEST_DB)" \
		$(BIN)/python -m pytest --ignore=tests/browser

lint: $(VENV)/.dev
	$(BIN)/ruff check .

browser-deps:
	scripts/ensure-chromium

bench-intake: $(VENV)/.dev
	$(BIN)/python bench/intake.py

# After changing a string a person reads: extract, merge into ar/en, translate ar, compile.
translations: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k _ -k ngettext:1,2 -k _l --no-location --sort-output \
		--ignore-dirs='.venv tests bench migrations' -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d translations --statistics

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
