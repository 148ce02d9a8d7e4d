"""Structured logs: one JSON object per line, with the correlation id of the work in hand."""

import json
import logging

import pytest

from services.observability import CORRELATION_ID, configure_logging, correlation_id_from


def test_log_lines_are_json_with_the_current_correlation_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging()
    token = CORRELATION_ID.set("abc123")
    try:
        logging.getLogger("groeiruimte.test").info("lead signalled", extra={"lead_id": "x"})
    finally:
        CORRELATION_ID.reset(token)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["message"] == "lead signalled"
    assert line["correlation_id"] == "abc123"
    assert line["level"] == "INFO" and line["lead_id"] == "x"


def test_correlation_id_comes_from_header_then_traceparent_then_is_new() -> None:
    assert correlation_id_from({"x-correlation-id": "given"}) == "given"
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert correlation_id_from({"traceparent": traceparent}) == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert len(correlation_id_from({})) == 32
