"""``wildwatch train | classify | rescore``: the classifier, from files and over stored listings."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline.cli.common import console, err_console, state
from pipeline.config import corpus_files, default_model_dir

ModelOpt = typer.Option(None, "--model", envvar="WILDWATCH_MODEL", help="Model folder (default: models/default).")


class InputError(ValueError):
    """A malformed input file; the message names file and line."""


def _load(model_dir: Path | None):  # noqa: ANN202 - classifier.Model
    from classifier import load_model

    path = Path(model_dir) if model_dir else default_model_dir()
    if not (path / "meta.json").exists():
        raise FileNotFoundError(f"no model in {path} (train one: wildwatch train --out {path})")
    return load_model(path)


def _read_jsonl(stream: IO[str], name: str) -> Iterator[dict[str, Any]]:
    for lineno, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name}:{lineno}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise InputError(f"{name}:{lineno}: each line must be a JSON object")
        if not any(isinstance(record.get(k), str) and record[k].strip() for k in ("title", "text")):
            raise InputError(f"{name}:{lineno}: needs a non-empty 'title' or 'text'")
        yield record


def _batches(records: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(record)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def register(app: typer.Typer) -> None:
    @app.command()
    def train(
        data: list[Path] = typer.Argument(None, help="Corpus JSONL files (default: classifier/data/corpus/*.jsonl)."),
        out: Path = typer.Option(..., "--out", help="Model folder to write, e.g. models/mine."),
        seed: int = typer.Option(13, "--seed"),
        target_recall: float = typer.Option(0.95, "--target-recall", help="The threshold is set for this recall."),
    ) -> None:
        """Train a model from labelled JSONL files (all lines are checked before training starts)."""
        from classifier import read_corpus, train_model

        files = list(data) or corpus_files()
        if not files:
            raise FileNotFoundError("no training data given and none in classifier/data/corpus/")
        records = read_corpus(files)
        console.print(f"training on {len(records)} listings from {len(files)} file(s) …")
        model = train_model(records, out, seed=seed, target_recall=target_recall)
        console.print(f"[green]saved[/] {out}  version {model.version}  threshold {model.threshold:.3f}")
        metrics = model.meta.get("metrics") or {}
        if metrics:
            console.print_json(data=metrics)

    @app.command()
    def classify(
        infile: str = typer.Argument(..., metavar="IN.jsonl", help="JSONL with title and/or text; '-' for stdin."),
        model_dir: Path = ModelOpt,
        out: str = typer.Option("-", "--out", help="Output JSONL; '-' for stdout."),
        batch_size: int = typer.Option(512, "--batch-size"),
    ) -> None:
        """Score listings from a JSONL file: adds score, flag, category, lang, evidence to each line."""
        model = _load(model_dir)
        source = sys.stdin if infile == "-" else open(infile, encoding="utf-8")  # noqa: SIM115
        records = _read_jsonl(source, "<stdin>" if infile == "-" else infile)
        results: list[str] = []
        try:
            # Every input line is checked before anything is written, so a bad line leaves no half output.
            for batch in _batches(records, batch_size):
                for record, scored in zip(batch, model.predict(batch), strict=True):
                    results.append(json.dumps({**record, **scored}, ensure_ascii=False))
        finally:
            if source is not sys.stdin:
                source.close()
        sink = sys.stdout if out == "-" else open(out, "w", encoding="utf-8")  # noqa: SIM115
        try:
            sink.write("".join(line + "\n" for line in results))
        finally:
            if sink is not sys.stdout:
                sink.close()
        if out != "-":
            err_console.print(f"{len(results)} listings scored → {out}")

    @app.command()
    def rescore(
        ctx: typer.Context,
        model_dir: Path = ModelOpt,
        all_listings: bool = typer.Option(False, "--all", help="Re-score every listing, not only the unscored."),
    ) -> None:
        """Score stored listings that this model has not scored yet, and queue the flagged ones."""
        from pipeline.scoring import score_listings, unscored_ids

        db = state(ctx).db
        model = _load(model_dir)
        total = len(unscored_ids(db, model.version, all_listings=all_listings))
        with _progress() as progress:
            task = progress.add_task(f"scoring with {model.version}", total=total)
            summary = score_listings(db, model, all_listings=all_listings, on_batch=lambda n: progress.advance(task, n))
        console.print(
            f"scored {summary.scored}, flagged {summary.flagged}, newly queued {summary.queued} (model {model.version})"
        )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=False,
    )
