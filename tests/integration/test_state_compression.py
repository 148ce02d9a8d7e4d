"""Migration 0011: the read models' state documents are compressed with lz4 on PostgreSQL."""

import asyncpg  # type: ignore[import-untyped]
import pytest

from services.persistence.migrate import upgrade_database

pytestmark = pytest.mark.postgres


async def test_state_documents_are_compressed_with_lz4(postgres_url: str) -> None:
    await upgrade_database(postgres_url)
    connection = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    try:
        methods = await connection.fetch(
            "SELECT attrelid::regclass::text AS table_name, attcompression::text FROM pg_attribute WHERE"
            " attname = 'state' AND attrelid IN ('lead_summaries'::regclass, 'lead_snapshots'::regclass)"
        )
        await connection.execute(
            "INSERT INTO lead_snapshots VALUES ('x', 1, 1, now(), now(), $1::json)",
            '{"notes": "' + "ein zin die zich herhaalt, " * 400 + '"}',
        )
        stored = await connection.fetchval("SELECT pg_column_compression(state) FROM lead_snapshots")
    finally:
        await connection.close()

    assert {row["table_name"]: row["attcompression"] for row in methods} == {
        "lead_summaries": "l",
        "lead_snapshots": "l",
    }
    assert stored == "lz4"
