from __future__ import annotations

from funnel.core.security.tokens import (
    generate_api_key,
    generate_token,
    hash_token,
    token_matches,
    tokens_equal,
)


def test_tokens_are_random_and_url_safe() -> None:
    tokens = {generate_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) >= 43 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


def test_a_token_is_stored_as_its_sha256_and_matched_against_it() -> None:
    token = generate_token()
    stored = hash_token(token)
    assert len(stored) == 64
    assert token not in stored
    assert hash_token(token) == stored
    assert token_matches(token, stored)
    assert not token_matches(token + "x", stored)


def test_constant_time_comparison() -> None:
    assert tokens_equal("abc", "abc")
    assert not tokens_equal("abc", "abd")
    assert not tokens_equal("abc", "abcd")


def test_api_keys_carry_a_displayable_prefix_and_are_looked_up_by_hash() -> None:
    material = generate_api_key()
    assert material.key.startswith(material.prefix + "_")
    assert material.prefix.startswith("fnl_")
    assert len(material.prefix) <= 16  # the column's width
    assert material.key_hash == hash_token(material.key)
    assert generate_api_key().key != material.key
