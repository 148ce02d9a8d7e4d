"""A local SMTP server for development: keeps every mail it receives as an .eml file under var/mail/."""

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class SaveToFolder:
    """aiosmtpd handler writing each message to its own file."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}.eml"
        content = envelope.original_content or envelope.content
        (self.folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
        return "250 Message accepted for delivery"


def start_mailcatcher(folder: Path, host: str, port: int) -> Controller:
    """Start the SMTP server in its own thread; stop it with `.stop()`."""
    controller = Controller(SaveToFolder(folder), hostname=host, port=port)
    controller.start()
    return controller
