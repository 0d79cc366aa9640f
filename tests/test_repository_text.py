"""The repository speaks of the product: not of how or when it was made, nor of one
machine. A figure names its date and the machine's cores instead."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MAKING = re.compile(
    r"\bsessions? \d|\bthis (workplace|machine)\b|"
    r"\bissue \d+\b|\btarget \d+ of\b|\bhelpers?\b brief|"
    # An absolute path of one checkout, e.g. a home or work folder.
    r"(?<![\w.])/(work|home|root|Users)/\w",
    re.IGNORECASE,
)
# Data files (specs, locks, results) say what they say.
SKIPPED = re.compile(r"\.(lock|json|png|yaml)$")


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [ROOT / name for name in listed if not SKIPPED.search(name)]


def test_no_line_speaks_of_the_making_or_of_one_machine() -> None:
    offending = []
    for path in _tracked_text_files():
        try:
            text = path.read_text()
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if MAKING.search(line):
                offending.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offending == [], "\n".join(offending)


def test_the_check_catches_what_it_is_for() -> None:
    # Put together here so that this file itself holds no such line.
    for line in (f"measured in sess{'ion'} 8", f"on this mach{'ine'}", f"see iss{'ue'} 23",
                 f"SPECS = Path('/{'work'}/shared/xero')"):
        assert MAKING.search(line), line
    for line in ("a session cookie", "sessions expire", "the machine's cores (2)",
                 "tests/posting/test_crash.py", "issues: none"):
        assert not MAKING.search(line), line
