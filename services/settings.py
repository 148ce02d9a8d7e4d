"""One typed Settings object (prefix GROEIRUIMTE_); built by the composition root, never at import."""

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from events.brokering import BrokeringPolicy
from services.security_settings import SecuritySettings
from services.temporal_settings import TemporalSettings

DEVELOPMENT_SECRET = "development-only-secret-change-me-0123456789"


class ImpactTargets(BaseSettings):
    """The programme's targets over the whole period (DESIGN §7)."""

    leads_in_portfolio: float = 40
    case_approaches_started: float = 24
    realised_other_region: float = 12
    new_scale_ups: float = 6
    retained_investment_eur: float = 1_500_000_000


class Settings(TemporalSettings, SecuritySettings):
    # populate_by_name: a field with an alias (the standard OTEL_ variable) can still be given by its name.
    model_config = SettingsConfigDict(
        env_prefix="GROEIRUIMTE_", env_nested_delimiter="__", populate_by_name=True
    )

    environment: Literal["development", "production"] = "development"
    var_dir: Path = Path("var")
    database_url: str = ""
    # Connections each process keeps open to PostgreSQL (and half as many again for bursts); the API
    # holds one per request in flight, so fewer than its concurrent requests costs a connect per request.
    database_pool_size: int = Field(default=20, ge=1, le=500)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # API server processes on one port (uvicorn workers): more than one uses more than one core.
    api_workers: int = Field(default=1, ge=1, le=64)
    # Requests per keep-alive connection before the answer says `Connection: close` (0: no limit), so
    # long-lived client connections spread over the API processes (services/api/edge.py).
    api_keepalive_requests: int = Field(default=50, ge=0)
    public_url: str = ""

    # temporal_address, _namespace and the Temporal Cloud credentials: services/temporal_settings.py
    temporal_task_queue: str = "groeiruimte-leads"
    temporal_ui_port: int = 8233
    command_timeout_seconds: float = 15.0
    continue_as_new_after_events: int = Field(default=2000, ge=1)

    # Signs development tokens (HS256, accepted only in development) and the UI's sign-in cookie;
    # production verifies OIDC tokens (services/security_settings.py) and refuses the development value.
    jwt_secret: str = DEVELOPMENT_SECRET
    jwt_issuer: str = "groeiruimte-dev"
    jwt_audience: str = "groeiruimte"
    token_ttl_hours: int = 12

    worker_metrics_port: int = Field(default=0, ge=0, description="0: no metrics endpoint on the worker")
    temporal_metrics_address: str | None = Field(default=None, description="e.g. 127.0.0.1:9464")
    # /livez, /readyz and /metrics of the worker and the projector (services/health.py); 0: none.
    worker_health_port: int = Field(default=0, ge=0)
    projector_health_port: int = Field(default=0, ge=0)

    # OpenTelemetry tracing (services/tracing.py): off, at no cost, unless an OTLP/HTTP endpoint is set.
    otel_exporter_otlp_endpoint: str = Field(
        default="",
        description="OTLP/HTTP base URL, e.g. http://collector:4318; traces go to <it>/v1/traces",
        validation_alias=AliasChoices(
            "GROEIRUIMTE_OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"
        ),
    )
    otel_service_name: str = Field(default="groeiruimte", description="each process adds -api, -worker, …")

    projector_poll_seconds: float = 0.2
    projector_batch_size: int = 500

    # Brokering: partner requests, reminders, escalation, nudges and aftercare (README: Configuration).
    default_due_working_days: int = Field(default=10, ge=1)
    reminder_interval_working_days: int = Field(default=5, ge=1)
    max_reminders: int = Field(default=3, ge=0)
    escalate_after_working_days: int = Field(default=5, ge=0)
    stale_after_days: float = Field(default=30, gt=0)
    aftercare_after_days: float = Field(default=180, gt=0)

    # Delivery: e-mail over SMTP and signed CloudEvents webhooks.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_username: str | None = None
    smtp_password: str | None = None
    mail_from: str = "groeiruimte <noreply@groeiruimte.example>"
    coordinator_emails: list[str] = Field(default_factory=lambda: ["coordinator@groeiruimte.example"])
    webhook_source: str = "urn:nld:groeiruimte:development"
    webhook_timeout_seconds: float = 10.0
    run_mailcatcher: bool = True

    programme_start: date = date(2025, 1, 1)
    programme_end: date = date(2028, 12, 31)
    targets: ImpactTargets = Field(default_factory=ImpactTargets)

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> "Settings":
        if self.environment == "production":
            self.refuse_development_security(self.jwt_secret == DEVELOPMENT_SECRET)
        return self

    @model_validator(mode="after")
    def _consistent_temporal_connection(self) -> "Settings":
        if problems := self.temporal_connection_problems(production=self.environment == "production"):
            raise ValueError("the Temporal connection settings do not fit together: " + "; ".join(problems))
        return self

    @property
    def development_secret(self) -> str | None:
        """The HS256 secret of development tokens; None outside development (they are refused there)."""
        if self.environment != "development":
            return None
        return self.jwt_secret

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under var/."""
        return self.database_url or f"sqlite+aiosqlite:///{self.var_dir / 'groeiruimte.db'}"

    @property
    def api_url(self) -> str:
        return self.public_url or f"http://{self.api_host}:{self.api_port}"

    def brokering_policy(self) -> BrokeringPolicy:
        return BrokeringPolicy(
            reminder_interval_working_days=self.reminder_interval_working_days,
            max_reminders=self.max_reminders,
            escalate_after_working_days=self.escalate_after_working_days,
            stale_after_days=self.stale_after_days,
            aftercare_after_days=self.aftercare_after_days,
        )
