"""Debian's Chromium, driven by Playwright, for the browser tests.

Where either is missing the tests skip, except under `CI=true`: there a browser test
that cannot run fails, naming what is missing, so CI never passes with them skipped.
"""

import os
import shutil
from types import ModuleType

import pytest


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        missing("Debian's chromium is not installed (apt-get install chromium)")
    assert path is not None
    return path


def playwright_api() -> ModuleType:
    try:
        import playwright.async_api as api
    except ImportError:
        missing("the playwright package is not installed (pip install -e '.[dev]')")
    return api


def missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)
