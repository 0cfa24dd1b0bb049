from __future__ import annotations

from argon2 import PasswordHasher

from funnel.core.security.passwords import hash_password, needs_rehash, verify_password


def test_a_hash_verifies_its_password_and_nothing_else() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "correct horse ")
    assert not verify_password(hashed, "")


def test_the_same_password_hashes_differently_each_time() -> None:
    assert hash_password("pw") != hash_password("pw")


def test_a_malformed_hash_is_a_failed_login_not_a_crash() -> None:
    assert not verify_password("not-a-hash", "pw")
    assert not verify_password("", "pw")


def test_weaker_parameters_ask_for_a_rehash() -> None:
    assert not needs_rehash(hash_password("pw"))
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("pw")
    assert verify_password(weak, "pw")
    assert needs_rehash(weak)
