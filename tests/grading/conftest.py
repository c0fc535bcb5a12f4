"""Fixtures of the grading tests: the grading database on SQLite and on a throw-away PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.support.postgres import postgres_url  # noqa: F401 (fixture)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The grading database: a SQLite file, or a new database on the throw-away PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'grading' / 'grading.sqlite'}"
    server = request.getfixturevalue("postgres_url")
    name = f"grading_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server.rsplit("/", 1)[0] + "/" + name
