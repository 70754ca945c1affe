"""Judgements: classify files, train and evaluate models. None of these opens the database."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from nlp.evaluation import format_negative_vs_neutral, format_report
from responder.cli.app import _open_or_exit, _or_exit, app, settings_of
from responder.judging.classifier import build_classifier


@app.command()
def classify(
    ctx: typer.Context,
    input: Annotated[
        Path | None, typer.Option("--input", help="JSONL file (default stdin)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="JSONL file (default stdout)")
    ] = None,
) -> None:
    """Add sentiment, category and misinformation judgements to JSONL objects with `text`."""

    classifier = _or_exit(lambda: build_classifier(settings_of(ctx)))
    source = _open_or_exit(input, "r") if input else sys.stdin
    sink = _open_or_exit(output, "w") if output else sys.stdout
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        judgements = classifier.classify_many([(obj.get("title"), obj["text"]) for obj in batch])
        for obj, judgement in zip(batch, judgements, strict=True):
            obj.update(judgement.to_dict())
            obj.pop("backend", None)
            sink.write(json.dumps(obj, ensure_ascii=False) + "\n")
        batch.clear()

    try:
        for number, line in enumerate(source, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                    raise TypeError("no string field text")
            except (json.JSONDecodeError, TypeError) as exc:
                typer.echo(f"line {number}: skipped, not a JSON object with text: {exc}", err=True)
                continue
            batch.append(obj)
            if len(batch) == CLASSIFY_BATCH:
                flush()
        if batch:
            flush()
    finally:
        if input:
            source.close()
        if output:
            sink.close()


CLASSIFY_BATCH = 512  # lines judged together: batching is what makes the linear model fast


class TrainBackend(StrEnum):
    linear = "linear"
    transformers = "transformers"


@app.command()
def train(
    ctx: typer.Context,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="labelled JSONL; without it, rebuild the shipped model"),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option("--field", help="sentiment, category, misinfo or label (repeatable)"),
    ] = None,
    backend: Annotated[TrainBackend, typer.Option("--backend")] = TrainBackend.linear,
    base_model: Annotated[
        Path | None, typer.Option("--base-model", help="transformers: model directory to tune")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="model directory (default <data>/models/)")
    ] = None,
    holdout: Annotated[
        float, typer.Option("--holdout", help="share of rows kept out to score the model")
    ] = 0.15,
    with_corpus: Annotated[
        bool, typer.Option("--with-corpus", help="add the shipped corpus to the data")
    ] = False,
    epochs: Annotated[int, typer.Option("--epochs", help="transformers: passes")] = 3,
    features: Annotated[
        str,
        typer.Option(
            "--features",
            help="linear: chars, chars-nb or chars-words; auto tries each on the held-out rows",
        ),
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Train a sentiment/category/rumour model and save it with a model card."""
    # Lazy: training loads scikit-learn (and torch for transformers).
    from responder.judging.training import train_file, train_shipped

    settings = settings_of(ctx)
    if data is None:
        if field or backend is not TrainBackend.linear or base_model or with_corpus:
            typer.echo("error: without --data only the shipped linear model is trained", err=True)
            raise typer.Exit(2)
        result = _or_exit(lambda: train_shipped(settings))
        scored_on = "the corpus's held-out domain test set"
    else:
        result = _or_exit(
            lambda: train_file(
                settings,
                data,
                field or [],
                backend=backend.value,
                base_model=base_model,
                output=output,
                holdout=holdout,
                with_corpus=with_corpus,
                epochs=epochs,
                features=features,
                progress=lambda message: typer.echo(message, err=True),
            )
        )
        scored_on = f"a held-out {holdout:.0%} of the data"
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    typer.echo(f"model saved to {result.model_dir} ({result.rows} rows, {result.backend})")
    for name, metrics in result.metrics.items():
        typer.echo(
            f"  {name}: macro-F1 {metrics['macro_f1']:.3f}, accuracy {metrics['accuracy']:.3f}"
            f" on {scored_on} ({metrics['n']} rows)"
        )
    for hint in result.hints:
        typer.echo(f"  to use it: {hint}")


@app.command("eval")
def evaluate(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="JSONL with sentiment/category/misinfo/label")],
    model: Annotated[
        Path | None, typer.Option("--model", help="model directory that judges its own fields")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Score the classifier (or --model) against the labels in a JSONL file."""
    # Lazy: evaluation loads the model backends.
    from responder.judging.evaluation import evaluate_file

    def progress(done: int, total: int) -> None:
        if total > 5000:
            typer.echo(f"{done}/{total}", err=True)

    report = _or_exit(lambda: evaluate_file(settings_of(ctx), file, model, progress))
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    typer.echo(f"{report['file']}: {report['rows']} rows\n")
    for name, result in report["fields"].items():
        typer.echo(f"[{name}] judged by {result['judged_by']}")
        typer.echo(format_report({name: result}))
    if report["negative_vs_neutral"]:
        typer.echo(format_negative_vs_neutral(report["negative_vs_neutral"]))
    for name, why in report["skipped"].items():
        typer.echo(f"[{name}] not scored: {why}")
