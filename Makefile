# lfr: `make demo` runs the product on the embedded default; `make test` runs the checks.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Reinstall when pyproject.toml changes.
HASH := $(shell cat pyproject.toml Makefile | md5sum | cut -c1-10)
RUNTIME_STAMP := $(VENV)/.runtime-$(HASH)
DEV_STAMP := $(VENV)/.dev-$(HASH)
# face_recognition declares `dlib` by name; dlib-bin (declared in pyproject.toml) provides
# the same module prebuilt, so face_recognition is installed without its dependencies.
FACE_RECOGNITION := face_recognition==1.3.0

.PHONY: demo test test-fast bench install install-dev browser rtsp lint e2e clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24" "setuptools<82" wheel

$(RUNTIME_STAMP): pyproject.toml | $(PY)
	@echo "==> installing runtime dependencies into $(VENV)"
	$(BIN)/pip install --quiet --progress-bar off -e .
	$(BIN)/pip install --quiet --no-deps "$(FACE_RECOGNITION)"
	$(PY) -c "from recognition.engine import face_api; face_api()"
	@rm -f $(VENV)/.runtime-*; touch $@

$(DEV_STAMP): $(RUNTIME_STAMP)
	@echo "==> installing dev dependencies into $(VENV)"
	$(BIN)/pip install --quiet --progress-bar off -e ".[dev]"
	@rm -f $(VENV)/.dev-*; touch $@

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP)

# Browser tests use Debian's chromium, installed from the distribution, never downloaded.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: run 'sudo apt-get install chromium'"; exit 1; fi; }

# Stream tests and soak_streams serve real RTSP cameras with GStreamer's RTSP server, through
# python3-gi (Debian's /usr/bin/python3, not the venv): installed from the distribution.
RTSP_PACKAGES := gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi \
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
rtsp:
	@/usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0'); \
	  from gi.repository import GstRtspServer" >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $(RTSP_PACKAGES) >/dev/null; \
	  else echo "GStreamer's RTSP server is missing: run 'sudo apt-get install $(RTSP_PACKAGES)'"; exit 1; fi; }

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_history
	$(PY) manage.py lfr_demo

lint: install-dev
	$(BIN)/ruff check .

test: install-dev browser rtsp
	$(BIN)/ruff check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

# The inner loop: everything but the slow (real processes) and browser tests.
test-fast: install-dev
	$(BIN)/ruff check .
	$(BIN)/pytest -m "not slow and not e2e" $(PYTEST_ARGS)

e2e: install-dev browser
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

bench: install-dev
	$(PY) manage.py bench_all

clean:
	rm -rf var/broker var/test.sqlite3 .pytest_cache
