"""What an engine sends to its database, seen the same way on SQLite and PostgreSQL."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


def statements_sent(engine: AsyncEngine) -> list[str]:
    """Every statement the engine sends from now on: SQLAlchemy's executions, and on PostgreSQL those
    sent on the driver itself (services/persistence/driver.py). The driver reports on the next turn of
    the event loop."""
    sent: list[str] = []

    def driver_sent(query: Any) -> None:
        sent.append(query.query)

    def checked_out(dbapi_connection: Any, *_: Any) -> None:
        driver = dbapi_connection.driver_connection
        if hasattr(driver, "add_query_logger"):
            driver.add_query_logger(driver_sent)  # a set: added once per connection

    event.listen(
        engine.sync_engine, "before_cursor_execute", lambda _c, _k, statement, *_: sent.append(statement)
    )
    event.listen(engine.sync_engine, "checkout", checked_out)
    return sent
