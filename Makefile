# Two commands matter: `make run` and `make test`. Both install what they need first.
.DEFAULT_GOAL := run
.PHONY: install run serve test test-fast lint superuser fixtures benchmark

# uv finds the interpreter named in .python-version; it must never download one.
export UV_PYTHON_DOWNLOADS := never
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
MANAGE := $(UV) run --frozen python manage.py

install:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
	$(UV) sync --frozen

# Importing is idempotent: unchanged records are left alone, so running it twice changes nothing.
fixtures: install
	$(MANAGE) migrate --no-input
	$(MANAGE) import_fixtures

run: fixtures
	$(MANAGE) runserver 127.0.0.1:8000

# Production server: granian (one thread per worker, as sync Django wants), WhiteNoise for
# hashed, compressed static files, on $PORT.
# Set DJANGO_DEBUG=False, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL first.
# It listens on this machine only unless HOST says otherwise: the proxy in front of it (which
# DJANGO_TRUSTED_PROXIES trusts) must be the only way in.
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
serve: install
	$(MANAGE) migrate --no-input
	$(MANAGE) collectstatic --no-input --verbosity 0
	$(UV) run --frozen granian --interface wsgi --host $(HOST) --port $(PORT) \
		--workers $(WORKERS) --blocking-threads 1 --respawn-failed-workers \
		negotiations.wsgi:application

benchmark: install
	$(MANAGE) benchmark

test: install
	$(UV) run --frozen pytest $(PYTEST_ARGS)

# For the edit-test loop: the whole suite but the browser, production server, backup and link
# tests (markers in pyproject.toml). CI runs `make test`.
test-fast: install
	$(UV) run --frozen pytest -m "not browser and not production and not backup and not links" \
		$(PYTEST_ARGS)

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(MANAGE) makemigrations --check --dry-run
	$(UV) run --frozen bandit --quiet --recursive negotiations --severity-level medium

superuser: fixtures
	$(MANAGE) createsuperuser
