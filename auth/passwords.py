"""Passwords: argon2id hashes (argon2-cffi), and the rules a new password must meet.

argon2id is memory-hard (64 MiB and 3 passes by the library's defaults, RFC 9106's second recommended
profile), so a stolen table of hashes costs an attacker memory as well as time for every guess.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256  # bounds the work one sign-in attempt can ask of the hasher
_HASHER = PasswordHasher()
# Verified when the user name is unknown, so a wrong name costs as long as a wrong password (no user probing).
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


class WeakPassword(ValueError):
    """The password does not meet the rules; the message says which."""


def check_new_password(password: str, username: str) -> None:
    """Raise ``WeakPassword`` unless ``password`` may be set for ``username``."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise WeakPassword(f"a password has {MIN_LENGTH} to {MAX_LENGTH} characters")
    if username and username.lower() in password.lower():
        raise WeakPassword("a password must not contain the user name")
    if len(set(password)) < 5:
        raise WeakPassword("a password needs at least 5 different characters")


def hash_password(password: str) -> str:
    """The argon2id hash to store (salt and parameters inside)."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; a missing or corrupt hash never matches (and costs the same time)."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's (rehash at the next sign-in)."""
    return _HASHER.check_needs_rehash(stored_hash)


def generate_password() -> str:
    """A random password to hand out once (about 120 bits)."""
    return secrets.token_urlsafe(15)
