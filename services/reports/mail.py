"""E-mailing reports to the coordinator over SMTP (settings), once per delivery id and recipient."""

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import aiosmtplib
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.persistence.tables import notification_deliveries
from services.reports.content import ReportContent
from services.reports.labels import FIGURES
from services.settings import Settings
from services.web.charts.svg import euros, number

_TYPES = {
    ".html": ("text", "html"),
    ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


class ReportMailer:
    def __init__(self, settings: Settings, engine: AsyncEngine) -> None:
        self._settings = settings
        self._engine = engine

    async def send(self, reports: list[ReportContent], files: list[Path], delivery_id: str) -> list[str]:
        """Mail every coordinator not yet mailed under this delivery id; returns who got it now or before."""
        recipients = list(self._settings.coordinator_emails)
        for recipient in recipients:
            if not await self._was_sent(delivery_id, recipient):
                await self._deliver(self._compose(recipient, reports, files, delivery_id))
                await self._mark_sent(delivery_id, recipient)
        return recipients

    def _compose(
        self, recipient: str, reports: list[ReportContent], files: list[Path], delivery_id: str
    ) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self._settings.mail_from
        mail["To"] = recipient
        mail["Subject"] = f"{reports[0].title} (groeiruimte)"
        mail["Message-ID"] = make_msgid(domain="groeiruimte.example")
        mail["X-Groeiruimte-Delivery"] = delivery_id
        mail["Content-Language"] = "nl"
        mail.set_content(body_text(reports[0], [report.title for report in reports[1:]]))
        for path in files:
            main, sub = _TYPES.get(path.suffix, ("application", "octet-stream"))
            mail.add_attachment(path.read_bytes(), maintype=main, subtype=sub, filename=path.name)
        return mail

    async def _deliver(self, mail: EmailMessage) -> None:
        s = self._settings
        await aiosmtplib.send(
            mail,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
            timeout=30,
        )

    async def _was_sent(self, delivery_id: str, recipient: str) -> bool:
        d = notification_deliveries.c
        statement = select(d.delivery_id).where(
            d.delivery_id == delivery_id, d.channel == "email", d.recipient == recipient
        )
        async with self._engine.connect() as connection:
            return (await connection.execute(statement)).first() is not None

    async def _mark_sent(self, delivery_id: str, recipient: str) -> None:
        row = {
            "delivery_id": delivery_id,
            "channel": "email",
            "recipient": recipient,
            "sent_at": datetime.now(UTC),
        }
        try:
            async with self._engine.begin() as connection:
                await connection.execute(insert(notification_deliveries).values(**row))
        except IntegrityError:
            return  # a concurrent attempt recorded it first


def body_text(report: ReportContent, companions: list[str]) -> str:
    figures = report.impact.figures
    lines = [
        "Beste coördinator,",
        "",
        f"In de bijlagen staat de {report.title.lower()} (HTML om af te drukken, XLSX om verder te rekenen).",
        *(f"Ook bijgevoegd: {title}." for title in companions),
        "",
        f"Kerncijfers per {report.as_of:%d-%m-%Y}:",
    ]
    for name, figure in figures:
        shown = euros if name == "retained_investment_eur" else number
        lines.append(f"- {FIGURES[name]}: {shown(figure.value)} (pro rata {shown(figure.pro_rata_target)})")
    status = "vastgesteld, SHA-256 " + report.figures_hash if report.figures_hash else "voorlopig"
    lines += ["", f"Status: {status}.", "", "Dit bericht is automatisch verstuurd door groeiruimte."]
    return "\n".join(lines)
