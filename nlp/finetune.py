"""Fine-tuning a local Hugging Face base model on labelled rows for one judgement field: the
model and tokenizer are saved with `save_pretrained`, and the card `yuqing.json` that
`nlp.transformer` reads is written last.

`transformers` and `torch` are imported on first use, never at import.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nlp.evaluation import evaluate, labelled_texts
from nlp.text import normalise
from nlp.transformer import (
    CARD,
    FORMAT,
    has_tokenizer,
    predict_batches,
    quiet_transformers,
    resolve_device,
    token_limit,
)

log = logging.getLogger(__name__)


def fine_tune(
    rows: Sequence[dict[str, Any]],
    field: str,
    base_model: Path,
    out_dir: Path,
    *,
    holdout: float = 0.15,
    seed: int = 20261122,
    epochs: int = 3,
    batch_size: int = 16,
    learning_rate: float = 5e-5,
    max_length: int = 256,
    data: dict[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
    device: str = "auto",
) -> dict[str, Any]:
    """Fine-tune local model `base_model` on the rows labelled for `field`; return held-out
    metrics (`nlp.evaluation.evaluate`'s result, empty when `holdout` is 0).

    The rows carrying a `field` label (see `nlp.evaluation.label_of`) are split, stratified,
    into a training share and a `holdout` share; the model is trained on the training share
    only and scored on the rest. Unlike the linear backend it is not refitted on every row
    afterwards (that would double the training time), so the saved model has not seen the
    held-out rows, and its card's scores are those of the saved model itself. With `holdout=0`
    every labelled row is trained on and nothing is scored.

    The classification head is replaced by a new one with this field's labels (sorted); the
    rest of the base model is trained from its weights. `out_dir` receives the model and
    tokenizer (`save_pretrained`) and the card `yuqing.json`, written last (`data` describes
    the training data there, see `nlp.training.describe_file`). `progress` is called with a
    line per epoch.
    """
    # torch, transformers and scikit-learn take seconds to import: only fine-tuning pays for them.
    import torch
    import transformers
    from sklearn.model_selection import train_test_split
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        get_linear_schedule_with_warmup,
    )

    base_model = Path(base_model)
    if not base_model.is_dir():
        raise ValueError(f"{base_model}: base model is not a directory")
    if not (base_model / "config.json").is_file() or not has_tokenizer(base_model):
        raise ValueError(f"{base_model}: base model needs config.json and tokenizer files")
    if not 0 <= holdout < 1:
        raise ValueError(f"holdout must be in [0, 1), not {holdout}")
    if epochs < 1 or batch_size < 1 or max_length < 1 or learning_rate <= 0:
        raise ValueError("epochs, batch_size, max_length and learning_rate must be positive")
    texts = [normalise(str(row["text"])) for row in rows]
    x, y, counts = labelled_texts(texts, rows, field)
    labels = sorted(counts)
    label_ids = {label: i for i, label in enumerate(labels)}
    if holdout:
        x_fit, x_test, y_fit, y_test = train_test_split(
            x, y, test_size=holdout, random_state=seed, stratify=y
        )
    else:
        x_fit, x_test, y_fit, y_test = x, [], y, []

    say = progress or (lambda line: None)
    torch.manual_seed(seed)  # the new head's initial weights and the batch order
    device = resolve_device(device)
    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(base_model)
        # id2label alone sets the number of labels; passing num_labels as well makes
        # transformers 5 warn that it disagrees with the base model's own id2label.
        model, info = AutoModelForSequenceClassification.from_pretrained(
            base_model,
            id2label=dict(enumerate(labels)),
            label2id=label_ids,
            ignore_mismatched_sizes=True,
            output_loading_info=True,
        )
    new = sorted(info["missing_keys"]) + sorted(key for key, *_ in info["mismatched_keys"])
    if new:
        log.info("%s: newly initialised weights: %s", base_model, ", ".join(new))
    if tokenizer.pad_token is None:
        raise ValueError(f"{base_model}: the tokenizer has no padding token")
    limit = token_limit(max_length, tokenizer, model)
    model.to(device)

    targets = torch.tensor([label_ids[label] for label in y_fit])
    steps = epochs * math.ceil(len(x_fit) / batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, round(steps * 0.1), steps)
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        order = torch.randperm(len(x_fit), generator=generator).tolist()
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            batch = tokenizer(
                [x_fit[i] for i in chosen],
                padding=True,
                truncation=True,
                max_length=limit,
                return_tensors="pt",
            ).to(device)
            loss = model(**batch, labels=targets[chosen].to(device)).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            total += loss.item() * len(chosen)
        line = f"epoch {epoch}/{epochs}: loss {total / len(order):.3f}"
        log.info("%s %s", field, line)
        say(line)
    model.eval()

    metrics: dict[str, Any] = {}
    card: dict[str, Any] = {
        "format": FORMAT,
        "backend": "transformers",
        "field": field,
        "labels": labels,
        "label_counts": dict(sorted(counts.items())),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "base_model": str(base_model),
        "data": {**(data or {}), "rows": len(rows)},
        "options": {
            "epochs": epochs,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "max_length": max_length,
            "seed": seed,
        },
    }
    if holdout:
        predicted = predict_batches(
            model, tokenizer, x_test, device=device, max_length=limit, batch_size=batch_size
        )
        metrics = evaluate(y_test, [labels[i] for i, _ in predicted])
        card["holdout"] = {
            "share": holdout,
            "train_rows": len(y_fit),
            "test_rows": len(y_test),
            "accuracy": round(metrics["accuracy"], 4),
            "macro_f1": round(metrics["macro_f1"], 4),
            "per_label_f1": {label: round(m["f1"], 4) for label, m in metrics["per_label"].items()},
        }
        say(f"held-out accuracy {metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}")
    card["transformers"] = transformers.__version__
    card["torch"] = torch.__version__

    out_dir.mkdir(parents=True, exist_ok=True)
    # The old card goes first and the new one last: a directory with a card is complete.
    (out_dir / CARD).unlink(missing_ok=True)
    with quiet_transformers():
        model.save_pretrained(out_dir)
        tokenizer.save_pretrained(out_dir)
    (out_dir / CARD).write_text(
        json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return metrics
