import json
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini.jsonl"


@pytest.fixture(scope="session")
def mini_path() -> Path:
    return MINI


@pytest.fixture(scope="session")
def mini_records():
    from classifier import read_corpus

    return read_corpus([MINI])


@pytest.fixture(scope="session")
def toy_model_dir(tmp_path_factory, mini_records):
    """A model trained once per session on the fixture (3-fold CV to keep it quick)."""
    from classifier import train_model

    out = tmp_path_factory.mktemp("models") / "toy"
    train_model(mini_records, out, seed=13, target_recall=0.9, name="toy", n_splits=3)
    return out


def _write_jsonl(path: Path, rows) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(row if isinstance(row, str) else json.dumps(row, ensure_ascii=False))
            fh.write("\n")
    return path


@pytest.fixture
def write_jsonl():
    """write_jsonl(path, rows): rows are dicts (dumped) or raw strings (written as they are)."""
    return _write_jsonl
