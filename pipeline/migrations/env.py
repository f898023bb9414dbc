"""Alembic environment: the engine comes from pipeline.db; for the alembic CLI from
``-x db=URL``, then $WILDWATCH_DB, then sqlalchemy.url in alembic.ini."""

import os

from alembic import context
from sqlalchemy import engine_from_config, pool

from pipeline.db import make_engine
from pipeline.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        url = (context.get_x_argument(as_dictionary=True).get("db") or os.environ.get("WILDWATCH_DB")
               or config.get_main_option("sqlalchemy.url"))
        engine = make_engine(url) if url else engine_from_config(
            config.get_section(config.config_ini_section, {}), poolclass=pool.NullPool
        )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
