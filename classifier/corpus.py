"""Reading the training corpus (JSONL; format in DESIGN / the brief).

``read_corpus`` validates every line of every file before it returns anything: one bad line
anywhere and nothing is returned, so nothing is ever trained on half the data.
"""

from __future__ import annotations

import json
from pathlib import Path

from .labels import CATEGORIES, LABELS, LANGS, NEGATIVE_KINDS, POSITIVE, POSITIVE_KINDS

MAX_REPORTED_ERRORS = 20


class CorpusError(ValueError):
    """The corpus has invalid lines. ``errors`` lists all of them as "file:line: problem"."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        shown = self.errors[:MAX_REPORTED_ERRORS]
        more = len(self.errors) - len(shown)
        msg = f"{len(self.errors)} invalid corpus line(s):\n  " + "\n  ".join(shown)
        if more:
            msg += f"\n  … and {more} more"
        super().__init__(msg)


def _check(obj, where: str) -> list[str]:
    if not isinstance(obj, dict):
        return [f"{where}: expected a JSON object, got {type(obj).__name__}"]
    errs = []
    title, text = obj.get("title"), obj.get("text")
    for key, val in (("title", title), ("text", text)):
        if val is not None and not isinstance(val, str):
            errs.append(f"{where}: {key} must be a string")
    if not any(isinstance(v, str) and v.strip() for v in (title, text)):
        errs.append(f"{where}: title and text are both missing or empty")
    label = obj.get("label")
    if label not in LABELS:
        errs.append(f"{where}: unknown label {label!r} (expected one of {', '.join(LABELS)})")
    cat = obj.get("category")
    if cat not in CATEGORIES:
        errs.append(f"{where}: unknown category {cat!r}")
    elif label == POSITIVE and cat == "none":
        errs.append(f"{where}: a positive needs a wildlife category, not 'none'")
    elif label in LABELS and label != POSITIVE and cat != "none":
        errs.append(f"{where}: a negative must have category 'none', not {cat!r}")
    lang = obj.get("lang")
    if lang is not None and lang not in LANGS:
        errs.append(f"{where}: unknown lang {lang!r}")
    kind = obj.get("kind")
    if kind is not None and label in LABELS:
        allowed = POSITIVE_KINDS if label == POSITIVE else NEGATIVE_KINDS
        if kind not in allowed:
            errs.append(f"{where}: unknown kind {kind!r} for a {label}")
    return errs


def read_corpus(paths) -> list[dict]:
    """Read JSONL corpus files; return their records (each gets ``_source`` = "file:line").

    Raises ``CorpusError`` naming file and line of every problem (bad JSON, missing/empty
    title+text, unknown label / category / lang / kind, duplicate id) — and then returns nothing.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    records: list[dict] = []
    errors: list[str] = []
    seen_ids: dict[str, str] = {}
    for path in map(Path, paths):
        try:
            raw_lines = path.read_bytes().splitlines()
        except OSError as exc:
            errors.append(f"{path}: cannot open ({exc.strerror or exc})")
            continue
        for lineno, raw in enumerate(raw_lines, 1):
            where = f"{path}:{lineno}"
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                errors.append(f"{where}: not UTF-8 ({exc.reason} at byte {exc.start})")
                continue
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"{where}: bad JSON ({exc.msg} at column {exc.colno})")
                continue
            errs = _check(obj, where)
            if not errs and "id" in obj:
                rid = str(obj["id"])
                if rid in seen_ids:
                    errs.append(f"{where}: duplicate id {rid!r} (first at {seen_ids[rid]})")
                seen_ids[rid] = where
            if errs:
                errors.extend(errs)
                continue
            obj["_source"] = where
            records.append(obj)
    if not records and not errors:
        errors.append(f"no records in {', '.join(map(str, paths)) or '(no files)'}")
    if errors:
        raise CorpusError(errors)
    return records
