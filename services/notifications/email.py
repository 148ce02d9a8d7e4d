"""E-mail over SMTP with aiosmtplib; host, port, security, credentials and sender from settings."""

from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from services.notifications.messages import Message
from services.settings import Settings


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def send(self, recipient: str, message: Message, delivery_id: str) -> None:
        """Send one mail; raises on any SMTP failure (the activity's retry policy retries)."""
        mail = EmailMessage()
        mail["From"] = self._settings.mail_from
        mail["To"] = recipient
        mail["Subject"] = message.subject
        mail["Message-ID"] = make_msgid(domain="groeiruimte.example")
        mail["X-Groeiruimte-Delivery"] = delivery_id
        mail["Content-Language"] = "nl"
        mail.set_content(message.body)
        settings = self._settings
        await aiosmtplib.send(
            mail,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            timeout=30,
        )
