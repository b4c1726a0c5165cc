"""Encryption of sensitive customer identifiers (tax IDs, bank accounts).

MultiFernet encrypts with the first key of FIELD_ENCRYPTION_KEYS and decrypts with any,
so a key is rotated by putting a new one first and running `rotate_encryption_keys`.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be comma-separated Fernet keys (urlsafe base64 of 32 bytes)"
        ) from exc


def cipher() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(clear: str) -> str:
    return cipher().encrypt(clear.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured("an encrypted field cannot be read with FIELD_ENCRYPTION_KEYS") from exc


def rotate(token: str) -> str:
    """Re-encrypt a stored value with the current first key."""
    return cipher().rotate(token.encode()).decode()


def mask(clear: str | None, visible: int = 4) -> str:
    """Show only the last few characters: 91310000MA1234 -> **********1234."""
    if not clear:
        return ""
    if len(clear) <= visible:
        return "*" * len(clear)
    return "*" * (len(clear) - visible) + clear[-visible:]
