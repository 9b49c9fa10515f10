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
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()
