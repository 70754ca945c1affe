"""Scoring predictions against gold labels: accuracy, macro-F1, per-label figures, confusion.

It owns which row field holds the gold label of a judgement field (`label_of`), so training and
`yuqing eval` read labelled files the same way. Metrics are computed here rather than with
scikit-learn so a label that is never predicted scores 0 without a warning, and the numbers in a
model card do not depend on a library version.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from nlp.types import CATEGORIES, SENTIMENTS

# Where a field's gold label may come from, in order; the first key present in a row wins, and
# a null there means "unlabelled" (SMP2020 rows carry `polarity: null` for "surprise" next to an
# emotion `label`, which must not be read as a sentiment). A label taken from a fallback key
# counts only when it is a sentiment, so a rumour file's `label: rumor` is not one.
KNOWN_LABELS: dict[str, tuple[str, ...]] = {"sentiment": SENTIMENTS, "category": CATEGORIES}
LABEL_SOURCES: dict[str, tuple[str, ...]] = {"sentiment": ("sentiment", "polarity", "label")}
EVAL_FIELDS = ("sentiment", "category", "misinfo", "stance", "label")
# Where calling a harmful report neutral costs most: it never reaches the duty officer's eyes.
COSTLY_CATEGORIES = ("field_safety", "privacy_leak", "data_security", "data_fraud", "scam")


def as_label(value: object) -> str:
    """A gold or predicted value as a label string; booleans become "true"/"false"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def label_source(row: Mapping[str, Any], field: str) -> str | None:
    """The key of `row` that holds the gold label for `field`, if any."""
    for key in LABEL_SOURCES.get(field, (field,)):
        if key in row:
            return key
    return None


def label_of(row: Mapping[str, Any], field: str) -> str | None:
    """The gold label of `row` for `field`, or None when the row is unlabelled for it."""
    key = label_source(row, field)
    if key is None or row[key] is None or row[key] == "":
        return None
    label = as_label(row[key])
    if key != field and field == "sentiment" and label not in SENTIMENTS:
        return None
    return label


def evaluate(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over every label seen in either list, per-label figures, confusion.

    `confusion["matrix"][i][j]` counts texts whose gold label is `labels[i]` and whose predicted
    label is `labels[j]`.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    if not gold:
        raise ValueError("nothing to evaluate: no labelled rows")
    labels = sorted(set(gold) | set(predicted))
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted, strict=True):
        matrix[index[g]][index[p]] += 1
    per_label: dict[str, dict[str, float | int]] = {}
    for i, label in enumerate(labels):
        true_positive = matrix[i][i]
        support = sum(matrix[i])
        predicted_count = sum(row[i] for row in matrix)
        precision = true_positive / predicted_count if predicted_count else 0.0
        recall = true_positive / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    correct = sum(matrix[i][i] for i in range(len(labels)))
    return {
        "n": len(gold),
        "accuracy": correct / len(gold),
        "macro_f1": sum(float(m["f1"]) for m in per_label.values()) / len(labels),
        "per_label": per_label,
        "confusion": {"labels": labels, "matrix": matrix},
    }


def evaluate_rows(
    rows: Sequence[Mapping[str, Any]], predictions: Mapping[str, Sequence[object]]
) -> dict[str, dict[str, Any]]:
    """Score `predictions[field][i]` against row i's gold label, for every field with any gold.

    Rows without a gold label for a field are left out of that field's figures; a field whose
    rows carry no gold label at all is left out of the result.
    """
    results: dict[str, dict[str, Any]] = {}
    for field, values in predictions.items():
        if len(values) != len(rows):
            raise ValueError(f"{field}: {len(values)} predictions for {len(rows)} rows")
        pairs = [
            (gold, as_label(value))
            for row, value in zip(rows, values, strict=True)
            if (gold := label_of(row, field)) is not None
        ]
        if pairs:
            results[field] = evaluate([g for g, _ in pairs], [p for _, p in pairs])
    return results


def negative_vs_neutral(
    rows: Sequence[Mapping[str, Any]], predicted: Sequence[str]
) -> dict[str, dict[str, int | float]]:
    """Per costly category (by the gold category): gold-negative rows judged negative, neutral
    or positive, gold-neutral rows judged negative, and negative recall."""
    out: dict[str, dict[str, int | float]] = {}
    for category in COSTLY_CATEGORIES:
        pairs = [
            (gold, p)
            for row, p in zip(rows, predicted, strict=True)
            if row.get("category") == category and (gold := label_of(row, "sentiment"))
        ]
        if not pairs:
            continue
        negative = [p for g, p in pairs if g == "negative"]
        counts: dict[str, int | float] = {
            "negative": len(negative),
            "negative_as_negative": negative.count("negative"),
            "negative_as_neutral": negative.count("neutral"),
            "negative_as_positive": negative.count("positive"),
            "neutral": sum(g == "neutral" for g, _ in pairs),
            "neutral_as_negative": sum(g == "neutral" and p == "negative" for g, p in pairs),
        }
        counts["negative_recall"] = (
            counts["negative_as_negative"] / len(negative) if negative else 0.0
        )
        out[category] = counts
    return out


def format_negative_vs_neutral(table: Mapping[str, Mapping[str, int | float]]) -> str:
    lines = ["negative vs neutral where a miss costs most (rows: gold category)"]
    lines += _table(
        ["category", "neg", "neg→neg", "neg→neu", "neg→pos", "neu", "neu→neg", "neg recall"],
        [
            [
                category,
                *(
                    str(c[k])
                    for k in (
                        "negative",
                        "negative_as_negative",
                        "negative_as_neutral",
                        "negative_as_positive",
                        "neutral",
                        "neutral_as_negative",
                    )
                ),
                f"{c['negative_recall']:.3f}",
            ]
            for category, c in table.items()
        ],
    )
    return "\n".join(lines) + "\n"


def _table(header: list[str], body: list[list[str]]) -> list[str]:
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def render(line: list[str]) -> str:
        cells = [line[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)
        ]
        return "  ".join(cells).rstrip()

    return [render(header), "  ".join("-" * w for w in widths), *(render(b) for b in body)]


def format_report(results: Mapping[str, Mapping[str, Any]]) -> str:
    """Plain-text tables, one block per field: summary line, per-label figures, confusion."""
    blocks = []
    for field, result in results.items():
        lines = [
            f"{field}: n={result['n']}  accuracy={result['accuracy']:.3f}  "
            f"macro-F1={result['macro_f1']:.3f}",
            "",
        ]
        per_label = result["per_label"]
        lines += _table(
            ["label", "precision", "recall", "f1", "support"],
            [
                [
                    label,
                    f"{m['precision']:.3f}",
                    f"{m['recall']:.3f}",
                    f"{m['f1']:.3f}",
                    str(m["support"]),
                ]
                for label, m in per_label.items()
            ],
        )
        labels = result["confusion"]["labels"]
        matrix = result["confusion"]["matrix"]
        lines += ["", "confusion (rows: gold, columns: predicted)"]
        lines += _table(
            ["gold \\ predicted", *labels],
            [[label, *(str(c) for c in row)] for label, row in zip(labels, matrix, strict=True)],
        )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def labelled_texts(
    texts: list[str], rows: Sequence[dict[str, Any]], field: str
) -> tuple[list[str], list[str], Counter[str]]:
    """The texts with a known `field` label, their labels and the label counts; ValueError
    when there are none, unknown ones or only one label."""
    pairs = [(t, g) for t, r in zip(texts, rows, strict=True) if (g := label_of(r, field))]
    if not pairs:
        keys = ", ".join(LABEL_SOURCES.get(field, (field,)))
        raise ValueError(f"no row has a {field} label (looked for: {keys})")
    counts = Counter(g for _, g in pairs)
    unknown = sorted(set(counts) - set(KNOWN_LABELS.get(field, counts)))
    if unknown:
        raise ValueError(f"{field}: unknown labels {unknown}; expected {KNOWN_LABELS[field]}")
    if len(counts) < 2:
        raise ValueError(f"{field}: only one label ({next(iter(counts))}); need at least two")
    return [t for t, _ in pairs], [g for _, g in pairs], counts
