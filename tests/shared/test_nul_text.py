"""NUL characters are refused at every door: HTTP bodies and paths, and broker messages."""

import json

import httpx
import pytest
from fastapi import FastAPI

from shared.contracts.registry import EventRegistry, UnreadableMessage
from shared.contracts.text import contains_nul
from shared.web import RefuseNulCharacters


@pytest.mark.parametrize(("raw", "refused"), [
    (json.dumps({"a": "x\x00y"}).encode(), True),
    (b'{"a": "x\\\\u0000"}', False),  # an escaped backslash, then the letters u0000
    (b'{"a": "x\\\\\\u0000"}', True),
    (b"\x00", True),
    (b'{"a": "plain"}', False),
])
def test_contains_nul(raw: bytes, refused: bool) -> None:
    assert contains_nul(raw) is refused


def test_the_registry_refuses_events_holding_nul() -> None:
    body = json.dumps({"event_type": "gl-posting-failed", "schema_version": 1,
                       "correlation_id": "a\x00b"}).encode()
    with pytest.raises(UnreadableMessage, match="NUL"):
        EventRegistry().parse(body)


async def test_requests_holding_nul_are_422_and_others_pass() -> None:
    app = FastAPI()
    app.add_middleware(RefuseNulCharacters)

    @app.post("/echo/{name}")
    async def echo(name: str, body: dict[str, str]) -> dict[str, str]:
        return {"name": name, **body}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        ok = await client.post("/echo/a", json={"k": "v"})
        in_body = await client.post("/echo/a", json={"k": "v\x00"})
        in_path = await client.post("/echo/a%00b", json={"k": "v"})
    assert ok.json() == {"name": "a", "k": "v"}
    assert in_body.status_code == 422 and in_body.json()["detail"][0]["loc"] == ["body"]
    assert in_path.status_code == 422 and in_path.json()["detail"][0]["loc"] == ["path"]
