"""Nothing secret reaches the logs: every formatted log line is masked before it is written.

Masked by shape — bearer tokens and other JWTs, credentials in query strings, passwords in URLs,
Standard Webhooks secrets — and by value: the secrets of the running settings (token signing secret,
payload keys, SMTP and database passwords), registered with `register_secrets`.
"""

import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from services.settings import Settings

MASK = "[redacted]"
_SECRET_PARAMETERS = ("access_token", "id_token", "token", "jwt", "api_key", "apikey", "password", "secret")
# Each shape with what any text it matches must contain (lower-cased): most lines contain none of them,
# and a substring test is a small fraction of a regular expression's search (61 µs a line before).
_PATTERNS = [
    (re.compile(r"(?i)(bearer\s+)[\w.~+/-]+=*"), r"\1" + MASK, ("bearer",)),
    (re.compile(r"eyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*"), MASK, ("eyj",)),
    (
        re.compile(rf"(?i)((?:{'|'.join(_SECRET_PARAMETERS)})=)[^&\s\"']+"),
        r"\1" + MASK,
        tuple(f"{name}=" for name in _SECRET_PARAMETERS),
    ),
    (re.compile(r"(\w+://[^:/\s@\"']+:)[^@\s\"']+(@)"), r"\1" + MASK + r"\2", ("://",)),
    (re.compile(r"whsec_[A-Za-z0-9+/=]+"), "whsec_" + MASK, ("whsec_",)),
]
_KNOWN: list[str] = []  # longest first


def mask(text: str) -> str:
    """The text with every known secret and every secret-shaped string replaced by a mask."""
    for secret in _KNOWN:
        if secret in text:
            text = text.replace(secret, MASK)
    lowered = text.lower()
    for pattern, replacement, needles in _PATTERNS:
        if any(needle in lowered for needle in needles):
            text = pattern.sub(replacement, text)
    return text


def register_secrets(values: Iterable[str | None]) -> None:
    """Values that must never be logged (short ones are left out: masking them would garble lines)."""
    known = set(_KNOWN) | {value for value in values if value and len(value) >= 8}
    _KNOWN[:] = sorted(known, key=len, reverse=True)


def secrets_of(settings: Settings) -> list[str | None]:
    database_password = urlsplit(settings.effective_database_url.replace("+asyncpg", "")).password
    keys = [key.get_secret_value() for key in settings.payload_keys.values()]
    return [settings.jwt_secret, settings.smtp_password, database_password, *keys]


class MaskingFormatter(logging.Formatter):
    """Wraps another formatter and masks what it produces (message, extras and tracebacks alike)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self._inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return mask(self._inner.format(record))
