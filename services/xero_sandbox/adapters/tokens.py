"""Access tokens as HS256 JWTs (authlib.jose). Decoding is cached: the API checks the same
few tokens thousands of times a second and the signature cannot change."""

import warnings
from typing import Any

import authlib.deprecate  # noqa: F401  (it installs an "always" filter when first imported)

with warnings.catch_warnings():
    # authlib.jose announces its move to joserfc; the API used here stays until authlib 2.
    warnings.simplefilter("ignore")
    from authlib.jose import JsonWebToken
    from authlib.jose.errors import JoseError

_CACHE_MAX = 20000


class TokenCodec:
    def __init__(self, secret: str) -> None:
        self._key = secret.encode("utf-8")
        self._jwt = JsonWebToken(["HS256"])
        self._header = {"alg": "HS256", "typ": "JWT"}
        self._cache: dict[str, dict[str, Any] | None] = {}

    def encode(self, claims: dict[str, Any]) -> str:
        token: bytes = self._jwt.encode(self._header, claims, self._key)
        return token.decode("ascii")

    def decode(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this sandbox signed, or None (expiry is the caller's: it
        follows the sandbox clock, not the wall clock)."""
        if token in self._cache:
            return self._cache[token]
        try:
            claims: dict[str, Any] | None = dict(self._jwt.decode(token, self._key))
        except (JoseError, ValueError):
            claims = None
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[token] = claims
        return claims
