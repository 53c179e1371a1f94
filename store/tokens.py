"""Secrets and ids that travel in links: making them, hashing them, checking what a link brings."""

import hashlib
import hmac
import re
import secrets

_GROUP_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_MAX_TOKEN_CHARS = 512  # real tokens have 43; anything far longer is not one of ours


def new_token() -> str:
    """A fresh facilitator or edit token: 256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def new_group_id() -> str:
    """A fresh public group id: 72 random bits, URL-safe (12 characters)."""
    return secrets.token_urlsafe(9)


def hash_token(token: str) -> str:
    """The token's SHA-256 hex digest: all the store keeps of a token."""
    # Tokens carry 256 random bits, so a fast unsalted hash is enough (no password stretching).
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same_hash(stored: str, digest: str) -> bool:
    """Compare two digests in constant time, so timing does not tell how much matched."""
    return hmac.compare_digest(stored, digest)


def plausible_token(token: object) -> bool:
    """Tell whether `token` could be one the store issued (worth hashing and looking up)."""
    return isinstance(token, str) and 0 < len(token) <= _MAX_TOKEN_CHARS


def plausible_group_id(group_id: object) -> bool:
    """Tell whether `group_id` could be one the store issued (worth looking up)."""
    # Ids come from links: reject anything we never issue before it reaches SQL (a NUL
    # byte, for one, makes PostgreSQL raise).
    return isinstance(group_id, str) and _GROUP_ID.fullmatch(group_id) is not None
