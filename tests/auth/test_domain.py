"""The pure rules: scenarios, keys, refresh decisions, cool-down, sealing."""

import base64
import json
import os
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from services.auth.adapters.cipher import Cipher, KeyConfigError, parse_keys
from services.auth.domain.connect import (
    AttemptProblem,
    AttemptView,
    Tenant,
    attempt_problem,
    just_authorised,
    tenants_from_connections,
    unverified_claims,
)
from services.auth.domain.keys import hash_secret, matches, new_key, parse_key
from services.auth.domain.scenarios import Scenario, UnrecognisedKey, classify_api_key
from services.auth.domain.tokens import cooldown, must_refresh, within_grace
from services.auth.service_layer.ports import CannotOpen

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
TOKEN30 = "RZ1P0ZXAJ4QPGZJ3BO9VNQJZQDK3FF"


@pytest.mark.parametrize("box", ["", "   ", None, "\n"])
def test_empty_box_is_a_new_store(box):
    assert classify_api_key(box).scenario is Scenario.NEW


@pytest.mark.parametrize(
    "box",
    [
        TOKEN30,
        f"  {TOKEN30} ",
        f"{TOKEN30}:KQ3JD8ZV0MNO2XKLPQRSTUVWX1234",
        f"{TOKEN30}&abcdefghijklmnopqrstuvwxyz0123",
        f"{TOKEN30} HIJKLMNOPQRSTUVWXYZ0123456",
        f"oauth_token={TOKEN30}&oauth_token_secret=KQ3JD8ZV0MNO2XKLPQRSTUVWX1234",
        "oauth_token_secret=abc&oauth_token=xyz",
    ],
)
def test_oauth1_shapes(box):
    result = classify_api_key(box)
    assert result.scenario is Scenario.OAUTH1
    assert "31 March 2021" in result.message


def test_2rf_key_is_a_renewal_even_when_damaged():
    assert classify_api_key(str(new_key(uuid4()))).scenario is Scenario.OAUTH2_RENEW
    assert classify_api_key("2RF:whatever").scenario is Scenario.OAUTH2_RENEW


@pytest.mark.parametrize(
    ("box", "looks_like"),
    [
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "access token"),
        ("a" * 64, "64-character hexadecimal"),
        ("5f0c2d4e-8b1a-4c3e-9d7f-2a6b8c0e1f34", "UUID"),
        ("hello world", "containing spaces"),
        (TOKEN30.lower(), "lower-case"),
        ("abc!", "4 characters of small letters, punctuation"),
    ],
)
def test_unrecognised_boxes_say_what_they_looked_like(box, looks_like):
    with pytest.raises(UnrecognisedKey) as caught:
        classify_api_key(box)
    message = str(caught.value)
    assert message.startswith("api_key:")
    assert looks_like in message
    assert box not in message or len(box) < 5  # never echo a possible secret


def test_key_round_trip_and_hash():
    key = new_key(uuid4())
    parsed = parse_key(f"  {key}\n")
    assert parsed == key
    assert matches(parsed, hash_secret(key.secret))
    assert not matches(parsed, hash_secret("other"))
    assert key.secret not in repr(key)
    assert parse_key("2RF:nope") is None
    assert parse_key(str(key)[:-1]) is None


def test_must_refresh():
    later = NOW + timedelta(minutes=20)
    five = timedelta(minutes=5)
    assert must_refresh(None, None, NOW, five)
    assert not must_refresh("a", later, NOW, five)
    assert must_refresh("a", NOW + timedelta(minutes=4), NOW, five)
    assert must_refresh("a", later, NOW, five, rejected_token="a")
    assert not must_refresh("a", later, NOW, five, rejected_token="older")


def test_cooldown_doubles_and_caps():
    assert cooldown(0, 5, 900) == timedelta(0)
    assert [cooldown(n, 5, 900).total_seconds() for n in (1, 2, 3)] == [5, 10, 20]
    assert cooldown(50, 5, 900) == timedelta(seconds=900)


def test_grace_window():
    assert within_grace(None, NOW)
    assert within_grace(NOW - timedelta(minutes=20), NOW)
    assert not within_grace(NOW - timedelta(minutes=29, seconds=30), NOW)


def test_attempt_problems():
    fresh = AttemptView(None, NOW + timedelta(minutes=1))
    assert attempt_problem(fresh, NOW) is None
    assert attempt_problem(None, NOW) is AttemptProblem.UNKNOWN
    assert attempt_problem(AttemptView(NOW, NOW + timedelta(1)), NOW) is AttemptProblem.USED
    assert attempt_problem(AttemptView(None, NOW), NOW) is AttemptProblem.EXPIRED


def test_tenants_of_this_authorisation():
    body = [
        {
            "id": "c1",
            "tenantId": "t1",
            "tenantName": "One",
            "tenantType": "ORGANISATION",
            "authEventId": "e1",
        },
        {
            "id": "c2",
            "tenantId": "t2",
            "tenantName": "Two",
            "tenantType": "ORGANISATION",
            "authEventId": "e2",
        },
        {
            "id": "c3",
            "tenantId": "p",
            "tenantName": "Practice",
            "tenantType": "PRACTICEMANAGER",
            "authEventId": "e2",
        },
    ]
    tenants = tenants_from_connections(body)
    assert [t.tenant_id for t in tenants] == ["t1", "t2"]
    assert [t.tenant_id for t in just_authorised(tenants, "e2")] == ["t2"]
    assert just_authorised(tenants, "unknown") == tenants
    assert just_authorised(tenants, None) == tenants
    assert isinstance(tenants[0], Tenant)
    with pytest.raises(ValueError):
        tenants_from_connections({"not": "a list"})


def test_unverified_claims():
    payload = base64.urlsafe_b64encode(b'{"authentication_event_id":"e9"}').rstrip(b"=").decode()
    assert unverified_claims(f"h.{payload}.s") == {"authentication_event_id": "e9"}
    assert unverified_claims("garbage") == {}
    # Claims are an object: a payload of any other JSON is no claims at all.
    listed = base64.urlsafe_b64encode(b'["authentication_event_id"]').rstrip(b"=").decode()
    assert unverified_claims(f"h.{listed}.s") == {}


@given(st.dictionaries(st.text(max_size=8), st.text(max_size=12), max_size=4))
@example({"a": "b"})  # 14 characters of base64: two '=' to restore
def test_claims_of_any_length_read_back_without_their_padding(claims: dict[str, str]) -> None:
    # JWTs drop base64's padding; the reader restores as much as each length needs.
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert unverified_claims(f"h.{payload}.s") == claims


def test_cipher_rotation_and_binding():
    k1 = "k1:" + base64.b64encode(os.urandom(32)).decode()
    k2 = "k2:" + base64.b64encode(os.urandom(32)).decode()
    old = Cipher.from_spec(k1)
    sealed = old.seal("refresh-token-value", "connections:x:refresh_token")
    assert "refresh-token-value" not in sealed and sealed.startswith("k1.")
    rotated = Cipher.from_spec(f"{k2},{k1}")
    assert rotated.open(sealed, "connections:x:refresh_token") == "refresh-token-value"
    assert rotated.seal("v", "c").startswith("k2.")
    with pytest.raises(CannotOpen):
        rotated.open(sealed, "connections:y:refresh_token")  # copied to another row
    with pytest.raises(CannotOpen, match="lacks"):
        Cipher.from_spec(k2).open(sealed, "connections:x:refresh_token")


@pytest.mark.parametrize(
    "spec", ["", "nokey", "k1:notbase64!", "k1:" + base64.b64encode(b"short").decode()]
)
def test_bad_key_settings_are_refused(spec):
    with pytest.raises(KeyConfigError):
        parse_keys(spec)
