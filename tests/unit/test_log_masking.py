"""Log lines never carry secrets: tokens, keys and passwords are masked by shape and by value."""

import io
import logging

import jwt
import pytest

from services.log_masking import MASK, MaskingFormatter, mask, register_secrets, secrets_of
from services.settings import Settings

TOKEN = jwt.encode({"sub": "anna", "org": "bom", "roles": ["taskforce"]}, "x" * 32)


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"GET /v1/leads?access_token={TOKEN[:20]}abc HTTP/1.1", TOKEN[:20]),
        (f"Authorization: Bearer {TOKEN}", TOKEN),
        (f"token in a message: {TOKEN}", TOKEN),
        ("postgresql+asyncpg://groeiruimte_api:s3cr3t-pa55@db:5432/groeiruimte", "s3cr3t-pa55"),
        ("webhook secret whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ= saved", "c2VjcmV0LXNlY3JldC1zZWNyZXQ"),
        ("smtp login failed: password=hunter2-hunter2", "hunter2-hunter2"),
        ("GET /callback?ID_Token=abc.def.ghi&state=1", "abc.def.ghi"),
        ("upstream said: BEARER opaque-access-value", "opaque-access-value"),
        ("SMTP_PASSWORD=Hunter3-Hunter3 in the environment", "Hunter3-Hunter3"),
    ],
    ids=[
        "query-token",
        "bearer",
        "jwt",
        "database-url",
        "webhook-secret",
        "password",
        "query-token-any-case",
        "bearer-any-case",
        "password-any-case",
    ],
)
def test_secret_shapes_are_masked(line: str, secret: str) -> None:
    masked = mask(line)
    assert secret not in masked
    assert MASK in masked


def test_the_settings_secrets_are_masked_by_value_wherever_they_appear() -> None:
    settings = Settings(
        _env_file=None, smtp_password="relay-password-77", jwt_secret="cookie-signing-secret-123456"
    )
    register_secrets(secrets_of(settings))
    key = settings.payload_keys["development"].get_secret_value()
    line = f"{settings.jwt_secret} / relay-password-77 / {key}"
    assert mask(line) == f"{MASK} / {MASK} / {MASK}"


def test_the_formatter_masks_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(MaskingFormatter(logging.Formatter("%(message)s")))
    logger = logging.getLogger("test.masking")
    logger.addHandler(handler)
    try:
        logger.warning("refused %s", f"Bearer {TOKEN}")
        try:
            raise RuntimeError(f"cannot verify {TOKEN}")
        except RuntimeError:
            logger.exception("verification failed")
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert TOKEN not in written
    assert written.count(MASK) == 2 and "RuntimeError" in written
