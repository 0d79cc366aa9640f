"""What the documents point at exists: every relative markdown link (and its `#section`),
every repository path written in backticks (`services/posting/main.py`, `adapters/` in
a service's README, `services/<name>/migrations/`), and every section named after a
document (`docs/performance.md, "The frame buffer"`; `the README, "When a day fails"`
in a docstring: the nearest README up from the file)."""

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE = re.compile(r"`([^`\s]+)`")
SECTION = re.compile(r"(?:`?([\w./-]+\.md)`?|\bREADME),? \"([^\"]+)\"")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$", re.MULTILINE)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
# A file named alone (`tokens.py`) must exist somewhere; data names are often placeholders.
FILE_NAME = re.compile(r"^[\w.*-]+\.(py|md|sql|sh|yml|yaml|toml|html)$")
NOT_A_PATH = re.compile(r"://|^[/$~]|[=@{}()\[\],]")
# Folders never written about: environments, caches, generated output.
UNWALKED = {"__pycache__", "mutants", "artifacts", "node_modules", "build"}


def files_under(root: Path) -> list[Path]:
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = [name for name in subfolders
                         if name not in UNWALKED and (not name.startswith(".") or name == ".ci")]
        found += [Path(folder) / name for name in names]
    return found


def slug(heading: str) -> str:
    """A heading's anchor as GitHub makes it."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def headings(document: Path) -> set[str]:
    return {match.strip("`") for match in HEADING.findall(FENCE.sub("", document.read_text()))}


def exists(path: str, base: Path, root: Path) -> bool:
    pattern = re.sub(r"<[^>]+>", "*", path).rstrip("/") or "."
    where = (base / pattern).resolve() if "*" not in pattern else base
    if "*" in pattern:
        return any(found.resolve().is_relative_to(root) for found in base.glob(pattern))
    return where.is_relative_to(root) and where.exists()


def broken_links(document: Path, text: str, root: Path) -> list[str]:
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # a URL: http:, mailto:
            continue
        path, _, anchor = target.partition("#")
        linked = document if not path else (document.parent / path).resolve()
        if path and not (linked.is_relative_to(root) and linked.exists()):
            broken.append(f"link {target}")
        elif anchor and linked.suffix == ".md" and anchor not in {
                slug(heading) for heading in headings(linked)}:
            broken.append(f"link {target}: no such section")
    return broken


def broken_paths(document: Path, text: str, root: Path, names: set[str]) -> list[str]:
    broken = []
    for written in CODE.findall(FENCE.sub("", text)):
        path = re.sub(r"(::|:\d).*$", "", written)
        if NOT_A_PATH.search(path) or not ("/" in path or FILE_NAME.match(path)):
            continue
        first = path.split("/", 1)[0]
        if first in UNWALKED:
            continue  # made by a command (`artifacts/coverage/`), absent from a clone
        if first in (".", ".."):
            found = exists(path, document.parent, root)
        elif "/" not in path.rstrip("/") and FILE_NAME.match(path):
            found = (any(Path(name).match(path) for name in names)
                     or exists(path, document.parent, root))
        elif exists(first, root, root):
            found = exists(path, root, root)
        elif exists(first, document.parent, root):
            found = exists(path, document.parent, root)
        else:
            continue  # not a repository path: `rental/Excavators`, `mutants/`
        if not found:
            broken.append(f"path {written}")
    return broken


def nearest_readme(source: Path, root: Path) -> Path:
    folder = source.parent
    while folder != root and not (folder / "README.md").exists():
        folder = folder.parent
    return folder / "README.md"


def broken_sections(source: Path, text: str, root: Path) -> list[str]:
    broken = []
    for document, section in SECTION.findall(text):
        if document:
            named = next((base / document for base in (root, source.parent)
                          if (base / document).exists()), None)
        else:
            named = nearest_readme(source, root)
        if named is None or section not in headings(named):
            broken.append(f"section {document or 'README'}, \"{section}\"")
    return broken


def problems(root: Path, sources: list[Path]) -> list[str]:
    names = {path.name for path in files_under(root)}
    found = []
    for source in sources:
        text = source.read_text()
        where = source.relative_to(root)
        found += [f"{where}: {problem}" for problem in broken_sections(source, text, root)]
        if source.suffix == ".md":
            found += [f"{where}: {problem}" for problem in
                      broken_links(source, text, root) + broken_paths(source, text, root, names)]
    return found


def test_every_document_points_at_what_exists() -> None:
    listed = subprocess.run(["git", "ls-files", "*.md", "*.py"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    # This file's examples name what does not exist, on purpose.
    sources = [ROOT / name for name in listed
               if (ROOT / name).exists() and ROOT / name != Path(__file__).resolve()]
    assert problems(ROOT, sources) == []


def test_the_check_finds_each_kind_of_broken_reference(tmp_path: Path) -> None:
    (tmp_path / "services" / "auth" / "adapters").mkdir(parents=True)
    (tmp_path / "services" / "auth" / "adapters" / "tokens.py").write_text("")
    (tmp_path / "services" / "auth" / "README.md").write_text(
        "# auth\n## Settings\n`adapters/tokens.py`, `adapters/gone.py`, `rental/Trailers`\n")
    (tmp_path / "services" / "auth" / "main.py").write_text(
        '"""See the README, "Settings", and the README, "Gone"."""\n')
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(
        "# Guide\n## The frame buffer\n"
        "[ok](../services/auth/README.md#settings) [gone](missing.md) "
        "[no section](#nowhere) [out](../../elsewhere.md) [web](https://example.com)\n"
        "`services/auth/adapters/tokens.py:12` `services/<name>/README.md` "
        "`services/auth/gone.py` `services/*/nothing.md` `tokens.py` `lost.py` "
        "`../../outside.md` `/healthz` `http://127.0.0.1:8001`\n"
        'docs/guide.md, "The frame buffer"; `docs/guide.md`, "Missing"\n'
        "```\nservices/auth/in_a_block.py `services/fenced.py`\n```\n")
    sources = [tmp_path / "docs" / "guide.md", tmp_path / "services" / "auth" / "README.md",
               tmp_path / "services" / "auth" / "main.py"]
    assert sorted(problems(tmp_path, sources)) == sorted([
        'docs/guide.md: section docs/guide.md, "Missing"',
        "docs/guide.md: link missing.md",
        "docs/guide.md: link #nowhere: no such section",
        "docs/guide.md: link ../../elsewhere.md",
        "docs/guide.md: path services/auth/gone.py",
        "docs/guide.md: path services/*/nothing.md",
        "docs/guide.md: path lost.py",
        "docs/guide.md: path ../../outside.md",
        "services/auth/README.md: path adapters/gone.py",
        'services/auth/main.py: section README, "Gone"',
    ])
