"""Alembic's entry point for the grading database; `store.migrate()` runs it on an open connection."""

from alembic import context

context.configure(connection=context.config.attributes["connection"], version_table="af_alembic_version",
                  render_as_batch=True)  # SQLite alters tables by copying them
with context.begin_transaction():
    context.run_migrations()
