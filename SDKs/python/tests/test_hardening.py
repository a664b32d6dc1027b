"""Where the SDK must refuse what Charter's Swift verifier refuses, found in review: secrets kept out of errors
and strings, characters compared as Swift compares them, JSON numbers and nesting as Charter's parser bounds them."""
from __future__ import annotations

import pytest

from charter_sdk import CharterError, Client, SigningKey, Token
from charter_sdk._encoding import JSONError, has_prefix, parse_json
from charter_sdk.ucan import Capability
from charter_sdk.ucan1 import check_command, proves
from charter_sdk.verifier import parse_timestamp
from charter_sdk.errors import UCANError


@pytest.mark.parametrize("key", ["chr_live_SECRETVALUE\n", "chr_live_SECRET VALUE", "chr_live_SECRETé"])
def test_a_key_no_key_could_be_is_refused_without_quoting_it(key: str) -> None:
    with pytest.raises(CharterError) as refused:
        Client("http://127.0.0.1:9", key, identity=SigningKey.generate())
    assert refused.value.code == "api_key_malformed"
    assert "SECRET" not in str(refused.value) and "SECRET" not in repr(refused.value)


def test_a_token_formats_as_its_cid_never_its_text() -> None:
    key = SigningKey.generate()
    token = Token.sign(key, audience=SigningKey.generate().did, expiration=1_900_000_000,
                       capabilities={"mailto:*": {"email/send": [{}]}})
    assert token.text not in f"{token}" and token.text not in repr(token)
    assert str(token.cid) in f"{token}"


def test_prefixes_end_at_a_character_boundary_as_in_swift() -> None:
    assert has_prefix("/admin", "/") and has_prefix("/a/b", "/a/") and has_prefix("abc", "")
    assert not has_prefix("a\u0301dmin", "a"), "a combining mark joins the character before it"
    assert not has_prefix("a\u200db", "a") and not has_prefix("a\ufe0fb", "a")
    assert not Capability("https://x.example/a*", "email/send").covers(
        Capability("https://x.example/a\u0301dmin", "email/send"))
    assert Capability("https://x.example/a*", "email/send").covers(
        Capability("https://x.example/admin", "email/send"))
    assert not proves("/a", "/a/\u0301x") and proves("/a", "/a/x")
    with pytest.raises(UCANError):
        check_command("/\u0301x")


def test_json_numbers_and_nesting_are_bounded_as_charters_parser_bounds_them() -> None:
    for text in (b'{"x": 1e400}', b'{"x": -1e400}', b'{"x": ' + b"9" * 400 + b"}"):
        with pytest.raises(JSONError):
            parse_json(text)
    assert parse_json(b"[" * 32 + b"]" * 32) is not None, "32 nested containers are allowed"
    with pytest.raises(JSONError):
        parse_json(b"[" * 33 + b"]" * 33)


def test_timestamps_take_ascii_digits_only() -> None:
    assert parse_timestamp("2026-11-24T18:49:50.743Z") is not None
    assert parse_timestamp("\uff12\uff10\uff12\uff16-11-24T18:49:50.743Z") is None


def test_base32_reads_exactly_what_the_standard_decoder_reads_canonically() -> None:
    """`b32_decode` reads CIDs as one integer (base64's decoder is pure Python, and a token citing 32 proofs spent
    most of its parse in it); it must still take exactly the canonical spellings, and nothing else."""
    import base64
    import binascii
    import random

    from charter_sdk._encoding import b32_decode, b32_encode

    def standard(text: str) -> bytes | None:
        if any(char not in "abcdefghijklmnopqrstuvwxyz234567" for char in text) or len(text) % 8 in (1, 3, 6):
            return None
        try:
            data = base64.b32decode(text.upper() + "=" * (-len(text) % 8))
        except (binascii.Error, ValueError):
            return None
        return data if b32_encode(data) == text else None

    rng = random.Random(7)
    for length in range(0, 66):
        for _ in range(200):
            text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(length))
            assert b32_decode(text) == standard(text), text
            data = rng.randbytes(length)
            assert b32_decode(b32_encode(data)) == data
    for text in ("A", "ab", "af", "a1", "aa=", "aaaaaaaa ", " aa", "a_a", "+aa", "\u00e9a", "aa\n", "0x"):
        assert b32_decode(text) is None, text
