"""Connects a store the way its manager would: the setup dialog, Xero's login and consent
pages, the organisation picker, and the page that shows the `2RF:` key.

Used by `glbridge demo`, the benchmarks and the tests; the real-browser test clicks the
same pages in Chromium.
"""

import re
from html import unescape

import httpx

from glbridge.headless import HeadlessBrowser, Page

_KEY_ELEMENT = re.compile(r'id="api-key"[^>]*>\s*([^<\s]+)\s*<')


class ConnectFailed(Exception):
    pass


async def connect_store(
    client: httpx.AsyncClient,
    auth_url: str,
    store_id: str,
    email: str = "demo@example.com",
    password: str = "demo-password",
    tenant_name: str | None = None,
    api_key_box: str = "",
) -> str:
    """Runs the connect flow for a store and returns the `2RF:` key its page shows."""
    setup = await client.post(
        f"{auth_url}/v1/setup", json={"store_id": store_id, "api_key": api_key_box}
    )
    if setup.status_code != 200:
        raise ConnectFailed(f"setup refused ({setup.status_code}): {setup.text}")
    browser = HeadlessBrowser(client)
    page = await browser.open(setup.json()["connect_url"])
    page = await browser.submit(page, "Log in", username=email, password=password)
    page = await browser.submit(page, "Allow access")
    page = await _pick_organisation(browser, page, tenant_name)
    return api_key_on(page)


async def _pick_organisation(browser: HeadlessBrowser, page: Page, tenant_name: str | None) -> Page:
    # Pickers (Xero's, then auth's own) appear only when the user has several organisations.
    for _ in range(2):
        if 'name="tenant_id"' not in page.html:
            return page
        tenant_id = _tenant_choice(page.html, tenant_name)
        page = await browser.submit(page, "Continue", tenant_id=tenant_id)
    return page


def _tenant_choice(html: str, tenant_name: str | None) -> str:
    options = re.findall(
        r'<input[^>]*name="tenant_id"[^>]*value="([^"]+)"[^>]*>\s*(?:<[^>]+>\s*)*([^<]*)', html
    )
    if not options:
        raise ConnectFailed("an organisation picker with no organisations")
    for value, label in options:
        if tenant_name is None or unescape(label).strip() == tenant_name:
            return value
    raise ConnectFailed(f"no organisation named {tenant_name!r} among {[o[1] for o in options]}")


def api_key_on(page: Page) -> str:
    match = _KEY_ELEMENT.search(page.html)
    if match is None:
        raise ConnectFailed(f"no API key on the final page ({page.status} {page.url}): "
                            f"{page.html[:500]}")
    return unescape(match.group(1))
