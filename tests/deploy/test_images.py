"""The Xero sandbox stays out of what is deployed: the Dockerfile's `production` target
(its default) never copies it, compose builds each service from the right target, and
the wheel leaves it out. Read from the files, as no image is built by the tests."""

import re
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import yaml
from setuptools import find_namespace_packages

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = "services/xero_sandbox"
SANDBOX_SERVICE = "xero-sandbox"


@dataclass
class Stage:
    name: str
    base: str
    # The sources of each COPY or ADD, with the stage it copies from (None: the context).
    copies: list[tuple[str | None, list[str]]] = field(default_factory=list)


def stages_of(dockerfile: str) -> list[Stage]:
    joined = re.sub(r"\\\n", " ", dockerfile)
    stages: list[Stage] = []
    for line in joined.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        instruction = words[0].upper()
        if instruction == "FROM":
            args = [word for word in words[1:] if not word.startswith("--")]
            name = args[2] if len(args) > 2 and args[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name, args[0]))
        elif instruction in ("COPY", "ADD"):
            source_stage = next((word.split("=", 1)[1] for word in words[1:]
                                 if word.startswith("--from=")), None)
            paths = [word for word in words[1:] if not word.startswith("--")]
            if paths[0].startswith("["):  # the JSON form
                paths = [str(path) for path in yaml.safe_load(" ".join(paths))]
            stages[-1].copies.append((source_stage, paths[:-1]))
    return stages


def brings_the_sandbox(source: str) -> bool:
    """A source from the context that copies the sandbox: the folder, something in it,
    or a folder holding it (`.`, `services`), written plainly or as a pattern."""
    path = source.removeprefix("./").rstrip("/") or "."
    holders = [".", "services", SANDBOX]
    return (path in holders or path.startswith(SANDBOX + "/")
            or any(fnmatch(holder, path) for holder in holders))


def holds_the_sandbox(stages: list[Stage], name: str) -> bool:
    by_name = {stage.name: stage for stage in stages}
    stage = by_name[name]
    if stage.base in by_name and holds_the_sandbox(stages, stage.base):
        return True
    for source_stage, sources in stage.copies:
        if source_stage is None and any(brings_the_sandbox(s) for s in sources):
            return True
        # From another stage: whatever it holds may come along.
        if source_stage in by_name and holds_the_sandbox(stages, source_stage):
            return True
    return False


def dockerfile_stages() -> list[Stage]:
    return stages_of((ROOT / "Dockerfile").read_text())


def test_the_production_image_holds_no_sandbox_and_is_the_default() -> None:
    stages = dockerfile_stages()
    assert stages[-1].name == "production"  # what a build without --target gives
    assert not holds_the_sandbox(stages, "production")
    assert holds_the_sandbox(stages, "sandbox")


def test_compose_builds_each_service_from_its_target() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    targets = {name: service["build"]["target"]
               for name, service in compose["services"].items() if "build" in service}
    assert targets.pop(SANDBOX_SERVICE) == "sandbox"
    assert set(targets) == {"auth", "totals", "posting"}
    assert set(targets.values()) == {"production"}


def test_the_wheel_leaves_the_sandbox_out() -> None:
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "packages"]["find"]
    packages = find_namespace_packages(str(ROOT), include=find["include"],
                                       exclude=find.get("exclude", ()))
    assert "services.auth" in packages
    assert [name for name in packages if name.startswith("services.xero_sandbox")] == []


def test_the_check_catches_every_way_of_copying_the_sandbox() -> None:
    for copy in ("COPY . .", "COPY services ./services", "COPY ./services/ /app/services/",
                 "COPY services/xero_sandbox ./services/xero_sandbox",
                 "ADD services/xero_sandbox/spec /spec", "COPY serv* ./",
                 'COPY ["services", "./services"]', "COPY --chown=nobody services /app/"):
        stages = stages_of(f"FROM python AS production\n{copy}\n")
        assert holds_the_sandbox(stages, "production"), copy
    inherited = stages_of("FROM python AS base\nCOPY . .\nFROM base AS production\n")
    assert holds_the_sandbox(inherited, "production")
    copied_over = stages_of("FROM python AS sandbox\nCOPY services /s\n"
                            "FROM python AS production\nCOPY --from=sandbox /s /s\n")
    assert holds_the_sandbox(copied_over, "production")
    for copy in ("COPY services/auth ./services/auth", "COPY services/__init__.py ./s/",
                 "COPY shared ./shared", "COPY services/xero_sandbox_notes.md ./"):
        stages = stages_of(f"FROM python AS production\n{copy}\n")
        assert not holds_the_sandbox(stages, "production"), copy
