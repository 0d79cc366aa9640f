"""Prints mutmut's results per module: mutants killed of those made.

`make mutation` runs it after `mutmut run`. A mutant no test reaches ("no tests") counts
as a survivor; docs/testing.md lists the survivors and why each is accepted.
"""

import re
import subprocess
import sys
from collections import Counter, defaultdict

KILLED = {"killed", "timeout"}  # a timeout: the mutant made the tests hang, so it was caught
NAME = re.compile(r"^\s*(\S+?)\.(?:x_|xǁ)\S*__mutmut_\d+: (.+)$")


def main() -> int:
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"],
                         capture_output=True, text=True, check=True).stdout
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in out.splitlines():
        if match := NAME.match(line):
            by_module[match.group(1)][match.group(2).strip()] += 1
    total = Counter[str]()
    for module in sorted(by_module):
        counts = by_module[module]
        total.update(counts)
        print(f"{module:45} {_score(counts)}")
    print(f"{'all':45} {_score(total)}")
    return 0


def _score(counts: Counter[str]) -> str:
    made = sum(counts.values())
    killed = sum(n for status, n in counts.items() if status in KILLED)
    rest = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s not in KILLED)
    return f"{killed:4}/{made:<4} killed ({100 * killed / max(made, 1):5.1f}%)  {rest}"


if __name__ == "__main__":
    sys.exit(main())
