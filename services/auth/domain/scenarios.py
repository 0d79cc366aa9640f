"""What the POS's API Key box holds decides the connect scenario.

Recognised shapes (documented in services/auth/README.md):
- empty or only whitespace: a store that never connected (`new`);
- `2RF:...`: a key this service issued (`oauth2-renew`: a new connection replaces it);
- an OAuth 1.0a token as rental POS products stored it (`oauth1`):
  * a query string holding `oauth_token=` (e.g. `oauth_token=ABC...&oauth_token_secret=...`),
  * a bare Xero OAuth1 token: exactly 30 capital letters and digits,
  * a token and its secret joined by `:`, `&`, `|`, `,` or whitespace, the token being
    30 capital letters and digits and the secret 20 to 64 letters and digits.
Anything else is refused with a description of what it looked like, never guessed.
"""

import re
from dataclasses import dataclass
from enum import StrEnum


class Scenario(StrEnum):
    NEW = "new"
    OAUTH1 = "oauth1"
    OAUTH2_RENEW = "oauth2-renew"


KEY_PREFIX = "2RF:"

_OAUTH1_TOKEN = re.compile(r"[A-Z0-9]{30}")
_OAUTH1_PAIR = re.compile(r"([A-Z0-9]{30})\s*(?:[:&|,]|\s)\s*([A-Za-z0-9]{20,64})")
_QUERY_TOKEN = re.compile(r"(?:^|[?&\s])oauth_token=([^&\s]+)", re.IGNORECASE)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

MESSAGES = {
    Scenario.NEW: (
        "This store is not connected to Xero yet. Your browser will open Xero: log in, "
        "allow access and pick the organisation this store posts to. You will get a key "
        "starting with 2RF: to paste into the API Key box."
    ),
    Scenario.OAUTH1: (
        "The API Key box holds an OAuth 1.0a token. Xero retired OAuth 1.0a on 31 March "
        "2021, so this token no longer works and cannot be migrated: the store must connect "
        "again with OAuth 2.0. Your browser will open Xero: log in, allow access and pick "
        "the organisation. You will get a new key starting with 2RF: to paste into the API "
        "Key box in place of the old token."
    ),
    Scenario.OAUTH2_RENEW: (
        "This store already has a Xero OAuth 2.0 key. Connecting again replaces its "
        "connection: your browser will open Xero, and the new 2RF: key you get there "
        "replaces the old one, which stops working. Do this when the store was told that "
        "its Xero connection needs a new key."
    ),
}


class UnrecognisedKey(ValueError):
    """The box holds something that is none of the known shapes; `str()` says what it looked
    like, without repeating the value (it may be a secret)."""


@dataclass(frozen=True)
class Classification:
    scenario: Scenario
    message: str


def classify_api_key(raw: str | None) -> Classification:
    text = (raw or "").strip()
    if not text:
        scenario = Scenario.NEW
    elif text.upper().startswith(KEY_PREFIX):
        scenario = Scenario.OAUTH2_RENEW
    elif _is_oauth1(text):
        scenario = Scenario.OAUTH1
    else:
        raise UnrecognisedKey(describe(text))
    return Classification(scenario, MESSAGES[scenario])


def _is_oauth1(text: str) -> bool:
    if _QUERY_TOKEN.search(text):
        return True
    return bool(_OAUTH1_TOKEN.fullmatch(text) or _OAUTH1_PAIR.fullmatch(text))


def describe(text: str) -> str:
    """Says what an unrecognised value looked like and what the box should hold."""
    expected = (
        "The API Key box must be empty (first connection), hold a key starting with 2RF: "
        "(issued by this service), or an OAuth 1.0a token (30 capital letters and digits, "
        "optionally with its secret, or 'oauth_token=...&oauth_token_secret=...')."
    )
    return f"api_key: it looks like {_looks_like(text)}. {expected}"


def _looks_like(text: str) -> str:
    if _JWT.fullmatch(text):
        return "a Xero access token (a JWT starting with 'eyJ'), which expires in 30 minutes"
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return "a bare 64-character hexadecimal token (perhaps a Xero refresh token)"
    if re.fullmatch(r"[0-9a-fA-F-]{36}", text):
        return "a UUID (perhaps a Xero organisation or client id)"
    if any(ch.isspace() for ch in text):
        return f"text of {len(text)} characters containing spaces"
    if _OAUTH1_TOKEN.fullmatch(text.upper()):
        return "a 30-character token with lower-case letters (OAuth 1.0a tokens are upper case)"
    return f"{len(text)} characters of {_alphabet(text)}, a shape no Xero key has"


def _alphabet(text: str) -> str:
    kinds = []
    if any(ch.isupper() for ch in text):
        kinds.append("capital letters")
    if any(ch.islower() for ch in text):
        kinds.append("small letters")
    if any(ch.isdigit() for ch in text):
        kinds.append("digits")
    if any(not ch.isalnum() for ch in text):
        kinds.append("punctuation")
    return ", ".join(kinds) or "nothing printable"
