#!/usr/bin/env bash
# Known vulnerabilities in what the virtualenv has installed: the project's dependencies,
# dev ones included (pip-audit; advisories from PyPI's JSON API, or OSV with
# `-s osv`). Exits non-zero when an installed version has a published advisory, and also
# (--strict) when a package could not be audited at all: an audit that checked nothing
# must not pass. Extra arguments go to pip-audit (`-s osv`, `--format json`, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/pip-audit" ]; then
  echo "audit: $VENV/bin/pip-audit missing; run: $VENV/bin/pip install -e '.[dev]'" >&2
  exit 2
fi
# --skip-editable: this project itself is installed editable and is not on PyPI.
exec "$VENV/bin/pip-audit" --local --skip-editable --strict --progress-spinner off "$@"
