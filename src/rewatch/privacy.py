"""Optional pseudonymisation of who watched: keyed hashes instead of ids and names.

With `REWATCH_PSEUDONYMIZE_KEY` set, the loader replaces household ids, profile ids and
profile names by HMAC-SHA256 of the value under that key, before anything is written to the
raw zone, so no table built from it carries a raw identifier. A plain hash would not do: ids
like `hh000042` are enumerated and hashed in seconds; without the key, an HMAC cannot be.

The key is read from the environment only and never written anywhere. The ledger records a
key *id* (an HMAC of a fixed label, which reveals nothing about the key) so that nights loaded
under different keys, or with and without one, are refused instead of silently mixing ids.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from rewatch.errors import PermanentError

KEY_ENV = "REWATCH_PSEUDONYMIZE_KEY"
MIN_KEY_LENGTH = 16


class PseudonymizeKeyError(PermanentError, ValueError):
    """The key in the environment is unusable (retrying will not help)."""


class Pseudonymizer:
    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_LENGTH:
            raise PseudonymizeKeyError(
                f"{KEY_ENV} must be at least {MIN_KEY_LENGTH} characters (use a random secret, "
                "e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
            )
        self._key = key

    @property
    def key_id(self) -> str:
        return hmac.new(self._key, b"rewatch pseudonymization key id", hashlib.sha256).hexdigest()[:16]

    def __call__(self, kind: str, value: str) -> str:
        """`household`, `profile` or `profile_name` + value -> `px_` + 32 hex digits (128 bits)."""
        digest = hmac.new(self._key, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()
        return f"px_{digest[:32]}"

    def __repr__(self) -> str:  # never print the key
        return f"Pseudonymizer(key_id={self.key_id})"


def from_environment() -> Pseudonymizer | None:
    key = os.environ.get(KEY_ENV, "")
    return Pseudonymizer(key.encode()) if key else None
