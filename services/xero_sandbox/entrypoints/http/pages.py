"""The HTML of the authorize flow: login, consent, organisation picker."""

from html import escape

from services.xero_sandbox.domain.model import Organisation

_STYLE = (
    "body{font-family:sans-serif;max-width:30rem;margin:3rem auto}"
    "label{display:block;margin:.5rem 0}.error{color:#b00}"
)

SCOPE_TEXT = {
    "openid": "Your identity",
    "profile": "Your name",
    "email": "Your email address",
    "offline_access": "Stay connected (keep access when you are away)",
    "accounting.manualjournals": "Create and view manual journals",
    "accounting.transactions": "View and manage your business transactions",
    "accounting.settings.read": "View your chart of accounts and organisation settings",
    "accounting.settings": "View and manage your organisation settings",
}


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def login_page(request_id: str, app_name: str, error: str | None = None) -> str:
    message = f"<p class='error'>{escape(error)}</p>" if error else ""
    return _page(
        "Log in to Xero",
        f"<p>{escape(app_name)} wants to connect to Xero.</p>{message}"
        "<form method='post' action='/identity/connect/authorize/login'>"
        f"<input type='hidden' name='request' value='{escape(request_id)}'>"
        "<label>Email <input type='email' name='username' autocomplete='username'></label>"
        "<label>Password <input type='password' name='password'></label>"
        "<button type='submit'>Log in</button></form>",
    )


def consent_page(request_id: str, app_name: str, email: str, scopes: list[str]) -> str:
    items = "".join(
        f"<li data-scope='{escape(s)}'>{escape(SCOPE_TEXT.get(s, s))} <code>{escape(s)}</code></li>"
        for s in scopes
    )
    return _page(
        f"{app_name} wants access",
        f"<p>Signed in as {escape(email)}.</p><ul id='scopes'>{items}</ul>"
        "<form method='post' action='/identity/connect/authorize/consent'>"
        f"<input type='hidden' name='request' value='{escape(request_id)}'>"
        "<button type='submit' name='decision' value='allow'>Allow access</button> "
        "<button type='submit' name='decision' value='cancel'>Cancel</button></form>",
    )


def picker_page(request_id: str, orgs: list[Organisation]) -> str:
    radios = "".join(
        f"<label><input type='radio' name='tenant_id' value='{escape(o.tenant_id)}'"
        f"{' checked' if i == 0 else ''}> {escape(o.name)}</label>"
        for i, o in enumerate(orgs)
    )
    return _page(
        "Select an organisation",
        "<form method='post' action='/identity/connect/authorize/organisation'>"
        f"<input type='hidden' name='request' value='{escape(request_id)}'>{radios}"
        "<button type='submit'>Continue</button></form>",
    )


def error_page(message: str) -> str:
    return _page("Something went wrong", f"<p class='error'>{escape(message)}</p>")
