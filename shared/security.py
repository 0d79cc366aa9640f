"""Secure by default: which settings still hold a publicly known development value.

With the Xero sandbox they are convenient; with real Xero each one is a hole (a key that
opens every sealed token, a credential that fetches access tokens, a password to the ops
page), so every service refuses to start naming them (`refuse_insecure_start`), and
`glbridge doctor` lists them (`insecure_defaults`).
"""

from collections.abc import Iterable

from pydantic import SecretStr

from shared.settings import (
    DEV_OPS_TOKEN,
    DEV_POSTING_SERVICE_TOKEN,
    DEV_TOTALS_SERVICE_TOKEN,
    ServiceSettings,
    XeroSettings,
)

# auth's development sealing key (AuthSettings' default).
DEV_ENCRYPTION_KEYS = "dev:ZGV2LW9ubHktZ2xicmlkZ2UtYXV0aC1rZXktMzJieXQ="

_DEVELOPMENT_VALUES = {
    "TOTALS_SERVICE_TOKEN": DEV_TOTALS_SERVICE_TOKEN,
    "POSTING_SERVICE_TOKEN": DEV_POSTING_SERVICE_TOKEN,
    "OPS_TOKEN": DEV_OPS_TOKEN,
}


def insecure_defaults(
    settings: ServiceSettings, encryption_keys: SecretStr | None = None
) -> list[str]:
    """The names of the settings that hold a development value (or one shared by two
    credentials), in a stable order. `encryption_keys`: auth's AUTH_ENCRYPTION_KEYS,
    when the caller has it."""
    values = {
        "TOTALS_SERVICE_TOKEN": settings.totals_service_token,
        "POSTING_SERVICE_TOKEN": settings.posting_service_token,
        "OPS_TOKEN": settings.ops_token,
    }
    found = [name for name, value in values.items()
             if value.get_secret_value() in (_DEVELOPMENT_VALUES[name], "")]
    found += _shared_credentials(values)
    if encryption_keys is not None and _uses_dev_key(encryption_keys.get_secret_value()):
        found.append("AUTH_ENCRYPTION_KEYS")
    return found


def _shared_credentials(values: dict[str, SecretStr]) -> list[str]:
    """A credential equal to another one lets its holder act as the other."""
    seen: dict[str, str] = {}
    shared = []
    for name, value in values.items():
        secret = value.get_secret_value()
        if secret and secret in seen:
            shared.append(f"{name} (same value as {seen[secret]})")
        seen.setdefault(secret, name)
    return shared


def _uses_dev_key(spec: str) -> bool:
    return any(part.strip() == DEV_ENCRYPTION_KEYS for part in spec.split(","))


class InsecureConfiguration(SystemExit):
    """Start-up refused: real Xero with development settings."""


def refuse_insecure_start(
    service: str, settings: ServiceSettings, xero: XeroSettings,
    encryption_keys: SecretStr | None = None,
) -> None:
    """Raises InsecureConfiguration naming each insecure setting when Xero is real."""
    if xero.is_sandbox:
        return
    found = insecure_defaults(settings, encryption_keys)
    if found:
        raise InsecureConfiguration(_message(service, found))


def _message(service: str, names: Iterable[str]) -> str:
    return (
        f"{service} refuses to start: real Xero is configured (XERO_TOKEN_URL) while these "
        f"settings hold a publicly known development value: {', '.join(names)}. Set each "
        "to its own random value (e.g. python -c \"import secrets; "
        "print(secrets.token_urlsafe(32))\"; AUTH_ENCRYPTION_KEYS: see services/auth/README.md)."
    )
