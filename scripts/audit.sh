#!/usr/bin/env bash
# Known vulnerabilities in the locked dependencies (requirements.lock, dev ones included).
#
# pip-audit first: advisories for each exact release from PyPI's JSON API (or OSV with
# `-s osv`); --strict fails when a package could not be audited at all, so an audit that
# checked nothing never passes. Where PyPI's per-release pages and OSV cannot be reached
# (a PyPI mirror that serves only project pages), scripts/audit_pypi.py runs instead: it audits exactly every
# locked package that is its project's newest release, and fails naming the others.
# Extra arguments go to pip-audit (`-s osv`, `--format json`, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/pip-audit" ]; then
  echo "audit: $VENV/bin/pip-audit missing; run: bash scripts/setup.sh" >&2
  exit 2
fi
if curl -sf -o /dev/null --max-time 10 https://pypi.org/pypi/pip/24.0/json; then
  exec "$VENV/bin/pip-audit" -r requirements.lock --no-deps --strict --progress-spinner off "$@"
fi
echo "audit: PyPI's per-release pages do not answer here; auditing from project pages" >&2
exec "$VENV/bin/python" scripts/audit_pypi.py requirements.lock
