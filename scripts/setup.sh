#!/usr/bin/env bash
# Sets up a new machine: the virtual environment with the project, RabbitMQ, PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ] \
    || [ requirements.lock -nt .venv/.installed ]; then
  .venv/bin/pip install -q --upgrade pip
  # The locked versions (requirements.lock), which scripts/audit.sh audits.
  .venv/bin/pip install -q -c requirements.lock -e '.[dev]'
  touch .venv/.installed
fi
# `setup.sh venv`: the virtual environment alone (for the unit tests).
[ "${1:-}" = venv ] && exit 0
bash scripts/infra.sh
# The browser tests drive Debian's Chromium through Playwright; without it they skip,
# except under CI=true, where a missing browser fails the run (here, and in the tests).
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "setup: installing chromium for the browser tests"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  } || echo "setup: chromium could not be installed; browser tests will be skipped"
fi
if [ "${CI:-}" = true ] && ! command -v chromium >/dev/null; then
  echo "setup: CI=true but chromium is missing (apt-get install chromium failed or apt-get"
  echo "       is absent, or setup does not run as root): the browser tests cannot run" >&2
  exit 1
fi
