"""A minimal form-filling browser: follows redirects, fills and submits HTML forms.

Enough to walk the OAuth connect flow (login, consent, organisation picker) the way a
person would, for `glbridge demo`, benchmarks and tests. Real-browser tests use Chromium.
"""

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx


@dataclass
class Button:
    name: str | None
    value: str
    text: str = ""


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[Button] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._button: Button | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input":
            self._input(a)
        elif tag == "button":
            self._button = Button(a.get("name"), a.get("value", ""))
            self.forms[-1].buttons.append(self._button)

    def _input(self, a: dict[str, str]) -> None:
        kind, name = a.get("type", "text").lower(), a.get("name")
        if kind == "submit":
            self.forms[-1].buttons.append(Button(name, a.get("value", ""), a.get("value", "")))
        elif name and (kind not in ("radio", "checkbox") or "checked" in a):
            self.forms[-1].fields[name] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.text += data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._button = None


@dataclass
class Page:
    url: str
    status: int
    html: str

    def forms(self) -> list[Form]:
        parser = _FormParser()
        parser.feed(self.html)
        return parser.forms


class HeadlessBrowser:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def open(self, url: str) -> Page:
        return self._page(await self.client.get(url, follow_redirects=True))

    async def submit(self, page: Page, button_text: str, **fields: str) -> Page:
        """Submits the form holding the button with this text, as a click on it would."""
        for form in page.forms():
            for button in form.buttons:
                if button.text.strip().lower() == button_text.lower():
                    return await self._send(page, form, button, fields)
        raise LookupError(f"no button {button_text!r} on {page.url}")

    async def _send(self, page: Page, form: Form, button: Button, fields: dict[str, str]) -> Page:
        data = form.fields | fields
        if button.name:
            data[button.name] = button.value
        url = urljoin(page.url, form.action or page.url)
        if form.method == "post":
            response = await self.client.post(url, data=data, follow_redirects=True)
        else:
            response = await self.client.get(url, params=data, follow_redirects=True)
        return self._page(response)

    @staticmethod
    def _page(response: httpx.Response) -> Page:
        return Page(str(response.url), response.status_code, response.text)
