"""Alembic environment: always run with a connection handed in by ``feedsvc.db.upgrade``."""

from alembic import context
from sqlalchemy import create_engine

from feedsvc.db.schema import include_object, metadata

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # plain `alembic` CLI use, e.g. by a developer writing a migration
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=metadata,
            render_as_batch=True,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
