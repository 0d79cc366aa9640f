"""The ops monitor in a real headless Chromium: sign in, read it, replay a dead letter and
retry a failed day by clicking, and watch it refresh itself. Screenshots go to
artifacts/ops/."""


import httpx

from glbridge.system import System
from shared.contracts.examples import example_setup
from tests.ops.conftest import (
    ARTIFACTS,
    TOKEN,
    failed_day,
    ops_data,
    publish_garbage,
    until_dead_letters,
)
from tests.support.browser import chromium_path, playwright_api


async def test_replay_and_retry_clicked_on_the_page(ops_system: System, amqp_url: str,
                                                    namespace: str) -> None:
    async_api, chromium = playwright_api(), chromium_path()
    system = ops_system
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with httpx.AsyncClient(timeout=60) as client:
        key, _ = await failed_day(client, system, "51", "2026-11-16")
        await publish_garbage(amqp_url, namespace, "garbage-page", "51:2026-11-17")
        await until_dead_letters(client, system, 1)

        async with async_api.async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium)
            try:
                page = await browser.new_page(viewport={"width": 1400, "height": 1000})
                await page.goto(f"{system.totals_url}/ops")
                assert page.url.endswith("/ops/login")  # behind a credential
                await page.fill("#token", "wrong")
                await page.click("text=Sign in")
                await async_api.expect(page.get_by_role("alert")).to_contain_text("not the ops")
                await page.fill("#token", TOKEN)
                await page.click("text=Sign in")
                await page.wait_for_url("**/ops")
                cookies = await page.context.cookies()
                assert [c["httpOnly"] for c in cookies if c["name"] == "glbridge_ops"] == [True]

                expect = async_api.expect
                queues = page.locator("#queues")
                await expect(queues).to_contain_text(f"{namespace}.posting.store-totals-closed")
                await expect(queues).to_contain_text(f"{namespace}.totals.posting-results")
                letters = page.locator("#dead-letters")
                await expect(letters.locator("tr[data-message-id='garbage-page']")
                             ).to_contain_text("51")
                failed = page.locator("#failed-days tr[data-store='51']")
                await expect(failed).to_contain_text("2026-11-16")
                await expect(failed).to_contain_text("090")
                await expect(page.locator("#outbox")).to_contain_text("posting")
                await page.screenshot(path=str(ARTIFACTS / "1-monitor.png"), full_page=True)

                # Replay the one dead letter, by clicking its button.
                row = letters.locator("tr[data-message-id='garbage-page']")
                await row.get_by_role("button", name="Replay").click()
                await expect(page.locator("#notice")).to_contain_text(
                    "Replayed 1 message(s) (message garbage-page) into "
                    "posting.store-totals-closed")
                await page.screenshot(path=str(ARTIFACTS / "2-replayed.png"), full_page=True)

                # The store fixes its setup; the operator retries the failed day.
                fixed = await client.put(f"{system.totals_url}/v1/stores/51/setup",
                                         json=example_setup(), headers={"X-Api-Key": key})
                assert fixed.status_code == 200, fixed.text
                await failed.get_by_role("button", name="Retry").click()
                await expect(page.locator("#notice")).to_contain_text("Store 51, 2026-11-16")
                # No reload by us: the page refreshes itself until the day is posted.
                await expect(page.locator("#failed-days")).to_contain_text(
                    "No failed days.", timeout=30_000)
                await expect(page.locator("#notice")).to_have_count(0)
                await page.screenshot(path=str(ARTIFACTS / "3-retried.png"), full_page=True)
            finally:
                await browser.close()

        day = (await client.get(f"{system.totals_url}/v1/stores/51/days/2026-11-16",
                                params={"wait": 30}, headers={"X-Api-Key": key})).json()
        data = await ops_data(client, system)
    assert day["status"] == "posted", day
    # The replayed message was read again by posting, which dead-lettered it once more
    # (it is still not JSON): replay moved it, it did not lose or duplicate it.
    assert [d["message_id"] for d in data["dead_letters"]] == ["garbage-page"]
