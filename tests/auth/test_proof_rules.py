"""Who may connect a store again (services/auth/domain/proof.py): the proof a reconnect
needs, when a finishing connect still holds it, what moves a store, and the shape of a
one-time reconnect token; and which of a connection's columns are sealed."""

import hashlib
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.auth.domain.proof import (
    RECONNECT_TOKEN_PREFIX,
    LiveConnection,
    Proof,
    ProofRequired,
    is_move,
    new_reconnect_token,
    reconnect_token_hash,
    required_proof,
    still_proved,
)
from services.auth.domain.records import SEALED_COLUMNS, ConnectionRecord

LIVE = UUID("0b8f5e0a-3c1d-4c7e-9a51-1f2d3e4c5b6a")
TOKEN_BODY = "A" * 20 + "z" * 20 + "0_-"  # 43 characters of the URL-safe alphabet


@pytest.mark.parametrize("token_accepted", [False, True])
def test_a_store_with_no_live_connection_needs_no_proof(token_accepted: bool) -> None:
    assert required_proof("12", None, token_accepted) is Proof.NONE


@pytest.mark.parametrize("token_accepted", [False, True])
def test_its_current_key_proves_a_connected_store(token_accepted: bool) -> None:
    # The key wins over a token sent as well: the store's holder is the stronger proof.
    assert required_proof("12", LiveConnection(LIVE, True), token_accepted) is Proof.KEY


def test_an_operators_token_proves_a_store_whose_key_was_lost() -> None:
    assert required_proof("12", LiveConnection(LIVE, False), True) is Proof.RECONNECT_TOKEN


def test_a_connected_store_without_proof_is_refused_saying_what_to_send() -> None:
    with pytest.raises(ProofRequired) as refused:
        required_proof("0042", LiveConnection(LIVE, False), False)
    text = str(refused.value)
    assert text.startswith("store 0042 is connected to Xero")
    assert "current 2RF: key in api_key" in text
    assert "reconnect token from the operator in reconnect_token" in text
    assert "glbridge ops reconnect-token --store 0042" in text


def test_proof_values_are_the_names_records_keep() -> None:
    assert [str(p) for p in Proof] == ["none", "key", "reconnect-token"]


@given(st.uuids() | st.none(), st.uuids() | st.none())
def test_a_connect_finishes_only_while_the_proved_connection_is_live(
    proved: UUID | None, live_now: UUID | None
) -> None:
    assert still_proved(proved, live_now) is (proved == live_now)


def test_still_proved_at_each_case() -> None:
    other = uuid4()
    assert still_proved(None, None) is True  # a first connect, still the first
    assert still_proved(LIVE, LIVE) is True
    assert still_proved(None, LIVE) is False  # someone connected the store meanwhile
    assert still_proved(LIVE, None) is False  # its connection was removed meanwhile
    assert still_proved(LIVE, other) is False  # someone reconnected it meanwhile


def test_moving_is_connecting_to_another_organisation_than_the_last() -> None:
    other = uuid4()
    assert is_move(None, LIVE) is False  # a first connection moves nothing
    assert is_move(LIVE, LIVE) is False
    assert is_move(LIVE, other) is True


def test_a_new_token_has_the_shape_its_hash_accepts() -> None:
    token = new_reconnect_token()
    assert token.startswith(RECONNECT_TOKEN_PREFIX) and len(token) == 4 + 43
    assert reconnect_token_hash(token) == hashlib.sha256(token.encode()).digest()
    assert new_reconnect_token() != token


def test_the_hash_is_of_the_token_without_the_space_around_it() -> None:
    token = "2RT:" + TOKEN_BODY
    digest = hashlib.sha256(token.encode()).digest()
    assert reconnect_token_hash(token) == digest
    assert reconnect_token_hash(f"  {token}\n") == digest


@pytest.mark.parametrize("text", [
    "",
    "   ",
    TOKEN_BODY,  # without its prefix
    "2rt:" + TOKEN_BODY,  # the prefix is case-sensitive
    "2RF:" + TOKEN_BODY,  # a key's prefix
    "2RT:" + TOKEN_BODY[:-1],  # 42 characters
    "2RT:" + TOKEN_BODY + "A",  # 44 characters
    "2RT:" + TOKEN_BODY[:-1] + "=",  # outside the URL-safe alphabet
    "x2RT:" + TOKEN_BODY,
    "2RT:" + TOKEN_BODY + "\x00",
])
def test_anything_else_is_never_looked_up(text: str) -> None:
    assert reconnect_token_hash(text) is None


def test_no_token_at_all_is_never_looked_up() -> None:
    assert reconnect_token_hash(None) is None  # type: ignore[arg-type]  # a form left empty


def test_only_sealed_columns_are_read_sealed() -> None:
    record = ConnectionRecord(id=LIVE, store_id="12", tenant_id=LIVE, tenant_name="Org",
                              status="active", key_hash=b"h", refresh_token_sealed="s1")
    assert [record.sealed(c) for c in SEALED_COLUMNS] == [None, "s1", None]
    with pytest.raises(ValueError, match=r"^no sealed column 'key_hash'$"):
        record.sealed("key_hash")
