"""Persistence: tables, the SQL event store, engines and migrations."""
