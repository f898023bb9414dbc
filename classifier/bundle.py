"""A saved model is a folder: ``model.joblib`` (the fitted estimator), ``meta.json`` (versions,
data hash, threshold, metrics, and the sha256 of every other file) and ``MODEL_CARD.md``.

``load_model`` verifies every file against ``meta.json`` before it unpickles anything. (The hash
check catches corruption and casual edits; a pickle is still code — only load model folders you
trust.)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import joblib

MODEL_FILE = "model.joblib"
META_FILE = "meta.json"
CARD_FILE = "MODEL_CARD.md"
OUTPUT_KEYS = ("score", "flag", "category", "lang", "evidence")


class ModelIntegrityError(RuntimeError):
    """A model folder that is incomplete, altered or not a Wildwatch model."""


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Model:
    """A loaded model: ``version``, ``threshold``, ``meta`` and ``predict(records)``."""

    def __init__(self, estimator, meta: dict, path: Path | None = None):
        self.estimator = estimator
        self.meta = meta
        self.path = path

    @property
    def version(self) -> str:
        return self.meta["version"]

    @property
    def threshold(self) -> float:
        return float(self.meta["threshold"])

    @property
    def categories(self) -> list[str]:
        return list(self.meta["categories"])

    def threshold_for(self, lang: str) -> float:
        """The flag threshold of a listing in ``lang`` (per-language thresholds, see meta)."""
        return float((self.meta.get("lang_thresholds") or {}).get(lang, self.threshold))

    def predict(self, records) -> list[dict]:
        """records: dicts with "title" and/or "text" (or plain strings). Returns, per record,
        {"score": 0..1, "flag": score >= the threshold of its language, "category": one of
        CATEGORIES ("none" when not flagged), "lang": zh|vi|en|other, "evidence": [terms /
        features]}."""
        if isinstance(records, (str, dict)):
            raise TypeError("predict() takes a list of records; wrap a single one in a list")
        return self.estimator.describe(list(records))

    def __repr__(self) -> str:
        return f"Model(version={self.version!r}, threshold={self.threshold:.4f}, path={self.path})"


_WORKER_MODEL = None


def _predict_chunk(chunk):
    return _WORKER_MODEL.predict(chunk)


def predict_many(model: Model, records, *, n_jobs: int = 1, batch_size: int = 512) -> list[dict]:
    """``model.predict`` over many records, in ``n_jobs`` forked worker processes (Linux / macOS)
    when that pays off. Workers share the loaded model copy-on-write. Without embeddings the
    model is pure Python per listing, so processes are the way to use several cores; with
    embeddings the embedder already uses every core (OpenMP), so keep ``n_jobs=1`` there —
    and an OpenMP runtime that has started threads must not be forked."""
    global _WORKER_MODEL
    import multiprocessing as mp

    records = list(records)
    if n_jobs <= 1 or len(records) < 2 * batch_size or "fork" not in mp.get_all_start_methods():
        return model.predict(records)
    chunks = [records[i:i + batch_size] for i in range(0, len(records), batch_size)]
    model.estimator.warm_up()
    _WORKER_MODEL = model
    try:
        with mp.get_context("fork").Pool(n_jobs) as pool:
            parts = pool.map(_predict_chunk, chunks)
    finally:
        _WORKER_MODEL = None
    return [row for part in parts for row in part]


def save_model(estimator, meta: dict, card: str, out_dir: str | Path,
               extra_files: dict[str, bytes] | None = None) -> Path:
    """Write the model folder atomically (a temporary sibling folder renamed into place); an
    existing folder at ``out_dir`` is replaced only once the new one is complete.
    ``extra_files`` (plain name -> bytes: the evaluation report and its plots) are written and
    hashed like the others."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        joblib.dump(estimator, tmp / MODEL_FILE, compress=3)
        (tmp / CARD_FILE).write_text(card, encoding="utf-8")
        names = [MODEL_FILE, CARD_FILE]
        for fname, data in (extra_files or {}).items():
            if Path(fname).name != fname or fname in (MODEL_FILE, CARD_FILE, META_FILE):
                raise ValueError(f"extra file name {fname!r} is not allowed")
            (tmp / fname).write_bytes(data)
            names.append(fname)
        meta = dict(meta)
        meta["files"] = {name: sha256_file(tmp / name) for name in names}
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
        os.chmod(tmp, 0o755)
        old = None
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            out_dir.rename(old)
        tmp.rename(out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def read_meta(path: str | Path) -> dict:
    """meta.json of a model folder, verified (every listed file present with its sha256)."""
    path = Path(path)
    where = f"model folder {path}"
    if not path.is_dir():
        raise ModelIntegrityError(f"{where}: not a directory — refusing to load")
    meta_path = path / META_FILE
    if not meta_path.is_file():
        raise ModelIntegrityError(f"{where}: {META_FILE} is missing — refusing to load")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelIntegrityError(f"{where}: {META_FILE} is not valid JSON ({exc}) — refusing to load")
    files = meta.get("files") if isinstance(meta, dict) else None
    if not isinstance(files, dict) or MODEL_FILE not in files:
        raise ModelIntegrityError(f"{where}: {META_FILE} lists no {MODEL_FILE} — refusing to load")
    for key in ("version", "threshold", "categories"):
        if key not in meta:
            raise ModelIntegrityError(f"{where}: {META_FILE} has no {key!r} — refusing to load")
    for name, digest in files.items():
        fp = path / name
        if Path(name).name != name:
            raise ModelIntegrityError(f"{where}: file name {name!r} is not a plain name — refusing to load")
        if not fp.is_file():
            raise ModelIntegrityError(f"{where}: file {name} is missing — refusing to load")
        if sha256_file(fp) != digest:
            raise ModelIntegrityError(f"{where}: file {name} sha256 mismatch — refusing to load")
    return meta


def load_model(path: str | Path) -> Model:
    """Load a model folder after checking meta.json and every file's sha256."""
    from .model import WildwatchClassifier

    path = Path(path)
    meta = read_meta(path)
    estimator = joblib.load(path / MODEL_FILE)
    if not isinstance(estimator, WildwatchClassifier):
        raise ModelIntegrityError(
            f"model folder {path}: {MODEL_FILE} holds a {type(estimator).__name__}, "
            f"not a WildwatchClassifier — refusing to use it")
    return Model(estimator, meta, path)
