"""Prints the suite's coverage over every measured process: lines and branches apart.

`make test` runs it after `coverage combine` (the service processes the tests start are
measured too: `[tool.coverage.run] patch = ["subprocess"]` in pyproject.toml).
"""

import json
import subprocess
import sys
from pathlib import Path

REPORT = Path("artifacts/coverage/coverage.json")


def main() -> int:
    subprocess.run([sys.executable, "-m", "coverage", "json", "-q", "-o", str(REPORT)],
                   check=True)
    totals = json.loads(REPORT.read_text())["totals"]
    lines = 100 * totals["covered_lines"] / max(totals["num_statements"], 1)
    branches = 100 * totals["covered_branches"] / max(totals["num_branches"], 1)
    print(f"coverage (every process): {lines:.1f}% of lines, {branches:.1f}% of branches"
          f" ({totals['covered_lines']}/{totals['num_statements']} lines,"
          f" {totals['covered_branches']}/{totals['num_branches']} branches);"
          " per file: .venv/bin/coverage report")
    return 0


if __name__ == "__main__":
    sys.exit(main())
