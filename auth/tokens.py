"""Random bearer tokens (session ids, display tokens) and the digest they are stored under.

A token is 32 random bytes; only its SHA-256 digest reaches the database, so reading the table does not let
anyone sign in. A fast digest is right here (unlike for passwords): the input is random, not guessable.
"""

from __future__ import annotations

import hashlib
import secrets

DISPLAY_PREFIX = "iocd_"
MAX_TOKEN_CHARS = 128  # anything longer is not ours; refuse before hashing


def new_token(prefix: str = "") -> str:
    """A fresh token: ``prefix`` + 43 URL-safe characters (256 bits)."""
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> bytes | None:
    """The stored form of ``token``; None for a value that cannot be one of ours."""
    if not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        return None
    return hashlib.sha256(token.encode("ascii")).digest()
