"""The domain's exception tree; the API maps each to one problem response."""


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class StageConflictError(DomainError):
    """The lead's stage (or the state of one of its parts) does not allow the command."""

    def __init__(self, message: str, stage: str | None) -> None:
        super().__init__(message)
        self.stage = stage


class InvalidCommandError(DomainError):
    """The command's input does not fit the lead (unknown demand, wrong region, …)."""

    def __init__(self, message: str, field: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


class LeadNotFoundError(DomainError):
    """No lead with that id exists."""


class ConcurrencyError(DomainError):
    """The stream moved on since the expected version was read."""

    def __init__(self, stream_id: str, expected_version: int, actual_version: int) -> None:
        super().__init__(f"stream {stream_id} is at version {actual_version}, expected {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version
