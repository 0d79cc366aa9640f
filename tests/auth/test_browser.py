"""The connect flow in a real headless Chromium (Debian's `chromium`, driven by Playwright):
login, consent, organisation picker, the key page and its copy button. The screenshot of
the key page is kept in artifacts/auth/. Skipped where Chromium or Playwright is missing,
failed under CI=true (tests/support/browser.py)."""

from pathlib import Path

from tests.auth.conftest import AuthCluster
from tests.support.browser import chromium_path, playwright_api

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "auth"


async def test_connect_in_a_real_browser_and_copy_the_key(
    auth: AuthCluster, browser_client, internal
):
    api, chromium = playwright_api(), chromium_path()
    auth.start()
    setup = await browser_client.post(
        f"{auth.url}/v1/setup", json={"store_id": "S400", "api_key": ""}
    )
    connect_url = setup.json()["connect_url"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox"]
        )
        try:
            context = await browser.new_context()
            await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=auth.url)
            context.set_default_timeout(10_000)
            page = await context.new_page()
            await page.goto(connect_url)
            await page.fill("input[name=username]", "multi@example.com")
            await page.fill("input[name=password]", "multi-password")
            await page.get_by_role("button", name="Log in").click()
            await page.get_by_role("button", name="Allow access").click()
            await page.get_by_label("Kiwi Hire (NZ)").check()
            await page.get_by_role("button", name="Continue").click()
            key_element = page.locator("#api-key")
            await key_element.wait_for()
            key = (await key_element.inner_text()).strip()
            await page.click("#copy-key")
            await page.locator("#copy-status", has_text="Copied").wait_for()
            copied = await page.evaluate("navigator.clipboard.readText()")
            await page.screenshot(path=str(ARTIFACTS / "connect-key-page.png"), full_page=True)
        finally:
            await browser.close()
    assert key.startswith("2RF:")
    assert copied == key
    verified = (await internal.post("/internal/v1/keys/verify", json={"api_key": key})).json()
    assert verified["tenant_name"] == "Kiwi Hire (NZ)"
