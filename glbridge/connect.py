"""Connects a store the way its manager would: the setup dialog, Xero's login and consent
pages, the organisation picker, and the page that shows the `2RF:` key.

Used by `glbridge demo`, the benchmarks and the tests (walked with glbridge.headless; the
real-browser test clicks the same pages in Chromium).
"""

from html.parser import HTMLParser

import httpx

from glbridge.headless import HeadlessBrowser, Page


class ConnectFailed(AssertionError):
    pass


# The button of auth's page that confirms moving a store to another organisation.
MOVE_BUTTON = "Move the store"


class _KeyAndOrgs(HTMLParser):
    """Reads the text of id="api-key" and the organisation radios with their labels."""

    def __init__(self) -> None:
        super().__init__()
        self.key: str | None = None
        self.orgs: list[tuple[str, str]] = []  # (tenant_id, label)
        self._in_key = False
        self._radio: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if a.get("id") == "api-key":
            self._in_key, self.key = True, ""
        elif tag == "input" and a.get("type") == "radio" and a.get("name") == "tenant_id":
            self._radio = a.get("value", "")
            self.orgs.append((self._radio, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._radio = None
        if self._in_key and tag in ("code", "span", "div", "p", "pre", "input", "output"):
            self._in_key = False

    def handle_data(self, data: str) -> None:
        if self._in_key:
            self.key = (self.key or "") + data.strip()
        elif self._radio is not None and data.strip():
            tenant_id, label = self.orgs[-1]
            self.orgs[-1] = (tenant_id, (label + " " + data.strip()).strip())


def read_page(page: Page) -> _KeyAndOrgs:
    parser = _KeyAndOrgs()
    parser.feed(page.html)
    return parser


def _choose(parser: _KeyAndOrgs, tenant_name: str | None, page: Page) -> dict[str, str]:
    if tenant_name is None:
        return {}  # the page's own default (the sandbox checks the first)
    for tenant_id, label in parser.orgs:
        if label == tenant_name:
            return {"tenant_id": tenant_id}
    raise ConnectFailed(f"no organisation {tenant_name!r} on {page.url}: {parser.orgs}")


async def connect_store(
    client: httpx.AsyncClient,
    auth_url: str,
    store_id: str,
    email: str = "demo@example.com",
    password: str = "demo-password",
    tenant_name: str | None = None,
    api_key_box: str = "",
    reconnect_token: str | None = None,
    confirm_move: bool = False,
) -> str:
    """Runs the scenario of what the API Key box holds (empty: a new connection) for
    `store_id` and returns the new `2RF:` key. A connected store proves itself with its
    current key in `api_key_box` or an operator's `reconnect_token`; `confirm_move`
    confirms moving it to another organisation than the one it posted to."""
    body: dict[str, str] = {"store_id": store_id, "api_key": api_key_box}
    if reconnect_token:
        body["reconnect_token"] = reconnect_token
    setup = await client.post(f"{auth_url.rstrip('/')}/v1/setup", json=body)
    if setup.status_code != 200:
        raise ConnectFailed(f"setup answered {setup.status_code}: {setup.text}")
    page = await finish_connect(client, setup.json()["connect_url"], email, password,
                                tenant_name, confirm_move)
    key = read_page(page).key
    if not key or not key.startswith("2RF:"):
        raise ConnectFailed(f"no 2RF: key on {page.url} (HTTP {page.status}): {page.html[:800]}")
    return key


async def finish_connect(
    client: httpx.AsyncClient,
    connect_url: str,
    email: str = "demo@example.com",
    password: str = "demo-password",
    tenant_name: str | None = None,
    confirm_move: bool = False,
) -> Page:
    """Walks a connect link as its person would (log in, allow access, pick the
    organisation, confirm a move when asked to) and returns the last page."""
    # A browser of its own (its own cookies): connect flows may run side by side.
    async with httpx.AsyncClient(timeout=client.timeout,
                                 event_hooks=client.event_hooks) as browser_client:
        browser = HeadlessBrowser(browser_client)
        page = await _walk(browser, connect_url, email, password, tenant_name)
        if confirm_move and MOVE_BUTTON in page.html:
            page = await browser.submit(page, MOVE_BUTTON)
    return page


async def _walk(browser: HeadlessBrowser, connect_url: str, email: str, password: str,
                tenant_name: str | None) -> Page:
    page = await browser.open(connect_url)
    page = await browser.submit(page, "Log in", username=email, password=password)
    page = await browser.submit(page, "Allow access")
    # Xero's organisation picker, then perhaps ours: both are radios named tenant_id.
    for _ in range(2):
        parser = read_page(page)
        if parser.key is not None or not parser.orgs:
            break
        if tenant_name is None and len(parser.orgs) > 1 and "checked" not in page.html:
            tenant_fields = {"tenant_id": parser.orgs[0][0]}
        else:
            tenant_fields = _choose(parser, tenant_name, page)
        page = await browser.submit(page, "Continue", **tenant_fields)
    return page
