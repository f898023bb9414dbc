from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from pipeline.db import Database, current_revision, head_revision
from pipeline.models import Base


def test_first_use_migrates_an_empty_database_to_head(db: Database) -> None:
    engine = db.engine
    assert current_revision(engine) == head_revision(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"site", "crawl_run", "listing", "snapshot", "prediction", "review_item", "decision"} <= tables


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'w.db'}")
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()
