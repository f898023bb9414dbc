from pathlib import Path

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


def test_migrations_have_exactly_one_head() -> None:
    from alembic.script import ScriptDirectory

    from pipeline.db import alembic_config

    heads = ScriptDirectory.from_config(alembic_config(None)).get_heads()
    assert len(heads) == 1, f"migrations have {len(heads)} heads: {heads}; add a merge revision"


def test_alembic_cli_upgrade_head_and_check_from_alembic_ini(db_url: str) -> None:
    """What alembic.ini documents: ``alembic -c alembic.ini -x db=URL upgrade head`` then ``check``."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    for args in (["upgrade", "head"], ["check"], ["heads"]):
        run = subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(root / "alembic.ini"), "-x", f"db={db_url}", *args],
            cwd=root, capture_output=True, text=True, timeout=120,
        )
        assert run.returncode == 0, run.stderr
    assert run.stdout.count("(head)") == 1
