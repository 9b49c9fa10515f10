"""Alembic environment: newsvault passes its own engine in ``config.attributes["engine"]``."""

from __future__ import annotations

from alembic import context

from storage.models import Base

target_metadata = Base.metadata
engine = context.config.attributes.get("engine")
if engine is None:  # the alembic CLI, e.g. `alembic revision --autogenerate`
    from sqlalchemy import create_engine

    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "sqlite://")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # processes started together on a new database (workers of a scale-out) migrate
            # one after the other; the later ones find the schema current
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7316458)")
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()
