"""Where things are by default; every default can be overridden by an environment variable."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_DIR = REPO_ROOT / "models" / "default"
CORPUS_DIR = REPO_ROOT / "classifier" / "data" / "corpus"


def default_model_dir() -> Path:
    return Path(os.environ.get("WILDWATCH_MODEL") or DEFAULT_MODEL_DIR)


def default_analyst() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "analyst"


def corpus_files() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*.jsonl"))
