"""Training the linear backend: labelled JSONL in, a model directory with its model card out.

It owns reading labelled files, the shipped corpus (`nlp/corpus/parts/*.jsonl`) and its fixed
held-out domain test set, the held-out evaluation of each field, and the card's contents.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from nlp.calibration import fit_temperature
from nlp.evaluation import evaluate, evaluate_rows, labelled_texts
from nlp.features import CANDIDATES, LinearOptions, make_classifier, make_features
from nlp.linear import FORMAT, LinearBackend, read_card, save_model, sklearn_version
from nlp.text import normalise
from nlp.types import ModelError

log = logging.getLogger(__name__)

CORPUS_PARTS = Path(__file__).resolve().parent / "corpus" / "parts"
# Where the shipped model is built: inside the package, next to the corpus it is trained from.
SHIPPED_MODEL = Path(__file__).resolve().parent / "models" / "linear"
CORPUS_TEST = Path(__file__).resolve().parent / "corpus" / "test"


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file; blank lines are skipped, every other line must be an object with
    a non-empty string `text`. A bad line raises ValueError naming the file and line number."""
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}, line {number}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise ValueError(f"{path}, line {number}: expected a JSON object")
            if not isinstance(row.get("text"), str) or not row["text"].strip():
                raise ValueError(f"{path}, line {number}: no non-empty string field 'text'")
            rows.append(row)
    return rows


def _rows_of(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for part in sorted(folder.glob("*.jsonl")):
        rows += load_jsonl(part)
    return rows


def corpus_rows() -> list[dict[str, Any]]:
    """The shipped corpus's training rows (`nlp/corpus/parts/*.jsonl`)."""
    return _rows_of(CORPUS_PARTS)


def corpus_test_rows() -> list[dict[str, Any]]:
    """The corpus's domain test set (`nlp/corpus/test/*.jsonl`), kept in files of its own so
    that no training row is a paraphrase of it."""
    return _rows_of(CORPUS_TEST)


def describe_file(path: Path) -> dict[str, str]:
    """Where training data came from, for the model card."""
    return {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def describe_corpus() -> dict[str, str]:
    """The corpus as training data: its parts hashed together in name order."""
    digest = hashlib.sha256()
    for part in sorted(CORPUS_PARTS.glob("*.jsonl")):
        digest.update(part.name.encode("utf-8") + b"\0" + part.read_bytes())
    return {
        "path": "nlp/corpus/parts/*.jsonl",
        "sha256": digest.hexdigest(),
    }


def _holdout_scores(
    options: LinearOptions, splits: dict[str, tuple[list[str], list[str], list[str], list[str]]]
) -> dict[str, dict[str, Any]]:
    """Fit on each field's training share with these options, score on its held-out share."""
    scores = {}
    for field, (x_fit, x_test, y_fit, y_test) in splits.items():
        features = make_features(options)
        classifier = make_classifier(options).fit(features.fit_transform(x_fit), y_fit)
        predicted = [str(p) for p in classifier.predict(features.transform(x_test))]
        scores[field] = evaluate(y_test, predicted)
    return scores


def train(
    rows: Sequence[dict[str, Any]],
    fields: Sequence[str],
    out_dir: Path,
    holdout: float = 0.15,
    seed: int = 20261122,
    *,
    options: LinearOptions | None = None,
    data: dict[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
    calibrate: bool = True,
) -> dict[str, dict[str, Any]]:
    """Train one classifier per field on the rows that carry its label; return held-out metrics.

    Each field is first fitted on a stratified `1 - holdout` share of its rows and scored on the
    rest. Without `options`, every one of `CANDIDATES` is scored that way and the one with the
    best mean macro-F1 over the fields is kept (the default options when `holdout` is 0). Then
    features and classifiers are refitted on all rows and written to `out_dir` with the model
    card (`data` describes the training data there, see `describe_file`). With `holdout=0`
    nothing is scored and the result is empty. With `calibrate`, each field's temperature is
    fitted on out-of-fold probabilities of its rows (`nlp.calibration`) and kept in the card.
    """
    # scikit-learn is imported on first use: `yuqing` commands that judge nothing start faster.
    from sklearn.model_selection import train_test_split

    if not fields:
        raise ValueError("no field to train")
    if not 0 <= holdout < 1:
        raise ValueError(f"holdout must be in [0, 1), not {holdout}")
    texts = [normalise(str(row["text"])) for row in rows]
    metrics: dict[str, dict[str, Any]] = {}
    field_cards: dict[str, dict[str, Any]] = {}
    labelled: dict[str, tuple[list[str], list[str]]] = {}
    splits = {}
    for field in fields:
        x, y, counts = labelled_texts(texts, rows, field)
        labelled[field] = (x, y)
        field_cards[field] = {
            "file": f"{field}.joblib",
            "labels": sorted(counts),
            "label_counts": dict(sorted(counts.items())),
            "rows": len(y),
        }
        if holdout:
            splits[field] = train_test_split(x, y, test_size=holdout, random_state=seed, stratify=y)
    candidates = {"given": options} if options else dict(CANDIDATES)
    selection: dict[str, dict[str, float]] = {}
    if holdout:
        best = -1.0
        for name, candidate in candidates.items():
            scores = _holdout_scores(candidate, splits)
            selection[name] = {f: round(m["macro_f1"], 4) for f, m in scores.items()}
            mean = sum(m["macro_f1"] for m in scores.values()) / len(scores)
            if progress:
                progress(f"{name}: held-out macro-F1 {mean:.3f}")
            if mean > best:
                best, options, metrics = mean, candidate, scores
        for field, (_, _, y_fit, y_test) in splits.items():
            field_cards[field]["holdout"] = {
                "share": holdout,
                "seed": seed,
                "train_rows": len(y_fit),
                "test_rows": len(y_test),
                "accuracy": round(metrics[field]["accuracy"], 4),
                "macro_f1": round(metrics[field]["macro_f1"], 4),
                "per_label_f1": {
                    label: round(m["f1"], 4) for label, m in metrics[field]["per_label"].items()
                },
            }
            log.info("%s held-out macro-F1 %.3f", field, metrics[field]["macro_f1"])
    options = options or LinearOptions()

    # The features are fitted once, on every labelled text, and shared by all fields.
    all_texts = sorted({t for x, _ in labelled.values() for t in x})
    features = make_features(options).fit(all_texts)
    classifiers = {}
    for field, (x, y) in labelled.items():
        matrix = features.transform(x)
        classifiers[field] = make_classifier(options).fit(matrix, y)
        if calibrate:
            field_cards[field]["temperature"] = _temperature(options, matrix, y, seed)
    card = {
        "format": FORMAT,
        "backend": "linear",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "sklearn": sklearn_version(),
        "data": {**(data or {}), "rows": len(rows)},
        "options": options.to_dict(),
        "selection": selection,  # held-out macro-F1 of each candidate tried
        "features": sum(len(v.vocabulary_) for _, v in features.transformer_list),
        "fields": field_cards,
    }
    save_model(out_dir, features, classifiers, card)
    return metrics


CALIBRATION_FOLDS = 5


def _temperature(options: LinearOptions, matrix: Any, gold: list[str], seed: int) -> float:
    """The field's temperature, fitted on probabilities each row got from a model that did not
    see it. The features were fitted on every text, without labels, as the final model's are."""
    # scikit-learn is imported on first use: `yuqing` commands that judge nothing start faster.
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(gold)
    classes = sorted(set(gold))
    smallest = min(Counter(gold).values())
    folds = min(CALIBRATION_FOLDS, smallest)
    if folds < 2:
        return 1.0  # too few rows of some label to hold any out
    probabilities = np.zeros((len(gold), len(classes)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit, held in splitter.split(matrix, labels):
        model = make_classifier(options).fit(matrix[fit], labels[fit])
        order = [list(model.classes_).index(c) for c in classes]
        probabilities[held] = model.predict_proba(matrix[held])[:, order]
    return fit_temperature(probabilities, gold, classes)


def _is_current(path: Path) -> bool:
    """Whether `path` holds the model the shipped corpus and installed scikit-learn produce."""
    try:
        card = read_card(path)
    except ModelError:
        return False
    return (
        card["data"].get("sha256") == describe_corpus()["sha256"]
        and card.get("sklearn") == sklearn_version()
        # Through JSON, as in the card: tuples there are lists.
        and card.get("options") == json.loads(json.dumps(LinearOptions().to_dict()))
    )


def build_shipped_model(out_dir: Path) -> dict[str, dict[str, Any]]:
    """Train the shipped model into `out_dir`, atomically: a reader never sees half a model.

    Returns the scores on the corpus's held-out domain test set.
    """
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    building = out_dir.with_name(f"{out_dir.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    train(corpus_rows(), ("sentiment", "category"), building, holdout=0, data=describe_corpus())
    # Domain rows carry a category; the everyday lines that only teach sentiment are scored
    # apart, so the domain figures stay comparable as the corpus grows.
    held_out = corpus_test_rows()
    backend = LinearBackend.load(building)
    predicted = backend.predict_fields(
        [normalise(row["text"]) for row in held_out], ["sentiment", "category"]
    )
    labels = {field: [label for label, _, _ in predicted[field]] for field in predicted}
    # The sentiment judged is the model's completed by the harm reading (`nlp.harm`).
    labels["sentiment"] = [
        p.sentiment for p in backend.predict([normalise(row["text"]) for row in held_out])
    ]
    domain = [i for i, row in enumerate(held_out) if row.get("category")]
    everyday = [i for i, row in enumerate(held_out) if not row.get("category")]
    metrics = evaluate_rows(
        [held_out[i] for i in domain], {f: [labels[f][i] for i in domain] for f in labels}
    )
    if everyday:
        metrics["everyday_sentiment"] = evaluate(
            [str(held_out[i]["sentiment"]) for i in everyday],
            [labels["sentiment"][i] for i in everyday],
        )
    card_path = building / "model.json"
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["domain_test"] = {
        "rows": len(domain),
        "everyday_rows": len(everyday),
        **{
            field: {"accuracy": round(m["accuracy"], 4), "macro_f1": round(m["macro_f1"], 4)}
            for field, m in metrics.items()
        },
    }
    card_path.write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    retired = out_dir.with_name(f"{out_dir.name}.retired-{os.getpid()}")
    if out_dir.exists():
        out_dir.rename(retired)
    building.rename(out_dir)
    shutil.rmtree(retired, ignore_errors=True)
    return metrics


def shipped_model(fallback_dir: Path | None = None) -> Path:
    """The directory of the shipped model, built from the corpus first if needed.

    `make` builds it at setup (`yuqing train`). A missing or stale model (the corpus, the
    options or scikit-learn changed) is rebuilt here, which takes about five seconds, under a
    file lock so that concurrent processes build it once. When the package directory is not
    writable, the model is built in `fallback_dir` (the data directory's `models/shipped`).
    """
    candidates = [SHIPPED_MODEL] + ([fallback_dir] if fallback_dir else [])
    for path in candidates:
        if _is_current(path):
            return path
    for path in candidates:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = (path.parent / f".{path.name}.lock").open("w")
        except OSError:
            continue
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not _is_current(path):
                for stale in path.parent.glob(f"{path.name}.building-*"):
                    shutil.rmtree(stale, ignore_errors=True)  # left by a killed build
                log.info("building the shipped linear model from the corpus in %s", path)
                build_shipped_model(path)
            return path
    raise ModelError(
        f"the shipped model is not built and none of {', '.join(map(str, candidates))} is"
        " writable; run `yuqing train` once as a user who can write there"
    )
