"""Properties of the API Key box's classification: what each shape is taken for, and
that anything else is refused without echoing it."""

from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.auth.domain.keys import new_key, parse_key
from services.auth.domain.scenarios import Scenario, UnrecognisedKey, classify_api_key

UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
ALNUM = UPPER_DIGITS + "abcdefghijklmnopqrstuvwxyz"
tokens = st.text(UPPER_DIGITS, min_size=30, max_size=30)
secrets = st.text(ALNUM, min_size=20, max_size=64)
separators = st.sampled_from([":", "&", "|", ",", " ", " : ", "\t"])
lower = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=5)


def refused(box: str) -> str:
    with pytest.raises(UnrecognisedKey) as caught:
        classify_api_key(box)
    return str(caught.value)


@given(st.sampled_from(["2RF:", "2rf:", "2Rf:", "2rF:"]), st.text(max_size=80))
def test_a_2rf_key_in_any_case_is_a_renewal(prefix: str, rest: str) -> None:
    box = prefix + rest.strip()
    assert classify_api_key(box).scenario is Scenario.OAUTH2_RENEW


@given(tokens, st.sampled_from(["", " ", "\n"]))
def test_exactly_thirty_capitals_and_digits_are_an_oauth1_token(token: str, pad: str) -> None:
    assert classify_api_key(pad + token + pad).scenario is Scenario.OAUTH1


@given(tokens, lower, lower)
def test_thirty_capitals_inside_other_text_are_not_a_token(token: str, before: str,
                                                          after: str) -> None:
    refused(before + token)
    refused(token + after)
    refused(before + token + after)


@given(st.text(UPPER_DIGITS, min_size=1, max_size=60).filter(lambda t: len(t) != 30))
def test_a_bare_token_of_another_length_is_refused(text: str) -> None:
    assert "oauth_token" not in text.lower()
    refused(text)


@given(tokens, separators, secrets)
def test_a_token_and_its_secret_are_an_oauth1_pair(token: str, sep: str, secret: str) -> None:
    assert classify_api_key(f"{token}{sep}{secret}").scenario is Scenario.OAUTH1


@given(tokens, st.sampled_from([":", "&"]), st.sampled_from([19, 65]), st.data())
def test_a_secret_outside_20_to_64_characters_is_refused(token: str, sep: str, length: int,
                                                        data: st.DataObject) -> None:
    secret = data.draw(st.text(ALNUM, min_size=length, max_size=length))
    refused(f"{token}{sep}{secret}")


# Values with a letter and a digit, as keys and tokens have. Hypothesis also draws from the
# string constants of the code under test, so a value of words alone ("servi") can be a
# piece of the message's own help text without being an echo of it. No five characters
# of the message without a space hold both a letter and a digit, except in "64-character"
# and "30-character", said only of values that cannot hold a "-".
@given(st.text(ALNUM + "!@$%^*()-_=+.~", min_size=5, max_size=80)
       .filter(lambda t: not t.upper().startswith("2RF:") and len(t.strip()) == len(t))
       .filter(lambda t: any(c.isalpha() for c in t) and any(c.isdigit() for c in t)))
def test_whatever_is_refused_is_never_echoed(text: str) -> None:
    try:
        classify_api_key(text)
    except UnrecognisedKey as exc:
        assert text not in str(exc)


@given(st.uuids())
def test_an_issued_key_parses_back_to_its_connection(connection_id: UUID) -> None:
    key = new_key(connection_id)
    assert parse_key(f" {key} ") == key
    assert parse_key(str(key)[:-1]) is None
    assert classify_api_key(str(key)).scenario is Scenario.OAUTH2_RENEW
