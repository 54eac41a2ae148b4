# SafetyMonth: `make run` serves the demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi.py
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test install db check-bank chromium clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt $(BIN)/activate
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(VENV)/.installed

db: install
	$(BIN)/flask db upgrade
	$(BIN)/flask bank load
	$(BIN)/flask demo seed

run: db
	@echo "SafetyMonth on http://127.0.0.1:$(PORT)/  (the demo unit 东门社区: http://127.0.0.1:$(PORT)/u/S01C01)"
	BIND=127.0.0.1:$(PORT) WEB_WORKERS=$${WEB_WORKERS:-2} $(BIN)/gunicorn -c python:quiz.gunicorn_conf wsgi:app

# Debian's Chromium drives the browser tests; Playwright never downloads a browser.
chromium:
	@{ command -v chromium && dpkg -s fonts-noto-cjk; } >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk; }

check-bank: install
	$(BIN)/flask bank check

test: install chromium check-bank
	env -u TEST_DATABASE_URL $(BIN)/python -m pytest -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on $$TEST_DATABASE_URL"; \
		$(BIN)/python -m pytest -q -p no:cacheprovider; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache
