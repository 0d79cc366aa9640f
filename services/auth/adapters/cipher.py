"""AES-GCM sealing of tokens at rest, under a key id so keys can rotate.

A sealed value is text: `<key id>.<base64url(nonce | ciphertext+tag)>`. The associated
data binds it to its row and column, so a sealed token copied into another row or
column does not open.
"""

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.auth.service_layer.ports import CannotOpen


class KeyConfigError(ValueError):
    pass


def parse_keys(spec: str) -> list[tuple[str, bytes]]:
    """`"k2:<b64>,k1:<b64>"` → [("k2", key), ("k1", key)]; the first is the current key."""
    keys: list[tuple[str, bytes]] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        key_id, sep, encoded = part.partition(":")
        if not sep or not key_id or "." in key_id:
            raise KeyConfigError("AUTH_ENCRYPTION_KEYS: each entry is '<key id>:<base64>'")
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise KeyConfigError(f"AUTH_ENCRYPTION_KEYS: key {key_id!r} is not base64") from exc
        if len(key) != 32:
            raise KeyConfigError(
                f"AUTH_ENCRYPTION_KEYS: key {key_id!r} has {len(key)} bytes, AES-256 needs 32"
            )
        keys.append((key_id, key))
    if not keys:
        raise KeyConfigError("AUTH_ENCRYPTION_KEYS holds no key")
    return keys


class Cipher:
    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        self.current_id = keys[0][0]
        self._keys = {key_id: AESGCM(key) for key_id, key in keys}

    @classmethod
    def from_spec(cls, spec: str) -> "Cipher":
        return cls(parse_keys(spec))

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys[self.current_id].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{self.current_id}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str, context: str) -> str:
        key_id, _, body = sealed.partition(".")
        aead = self._keys.get(key_id)
        if aead is None:
            raise CannotOpen(f"sealed under key {key_id!r}, which AUTH_ENCRYPTION_KEYS lacks")
        try:
            raw = base64.urlsafe_b64decode(body)
            return aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, ValueError, binascii.Error) as exc:
            raise CannotOpen("sealed value is damaged or belongs elsewhere") from exc

    def key_id_of(self, sealed: str) -> str:
        return sealed.partition(".")[0]
