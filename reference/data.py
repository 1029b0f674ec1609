"""The bundled sentiment corpus (assignments/a1/data/sentiment.tsv)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

HEADER = ["split", "label", "text"]


@dataclass(frozen=True)
class Corpus:
    """Sentences and 0/1 labels of the training and held-out splits."""

    train_sentences: list[str]
    train_labels: list[int]
    test_sentences: list[str]
    test_labels: list[int]


def load_sentiment_tsv(path: Path) -> Corpus:
    """Read a TSV with header split, label, text (split train|test, label 0|1, no quoting)."""
    parts: dict[str, tuple[list[str], list[int]]] = {"train": ([], []), "test": ([], [])}
    with Path(path).open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header != HEADER:
            raise ValueError(f"{path}: the first line must be the header "
                             f"{chr(9).join(HEADER)!r}, got {header!r}")
        for line, row in enumerate(reader, start=2):
            if len(row) != 3 or row[0] not in parts or row[1] not in ("0", "1"):
                raise ValueError(f"{path}:{line}: expected 'train|test<TAB>0|1<TAB>text', "
                                 f"got {row!r}")
            sentences, labels = parts[row[0]]
            sentences.append(row[2])
            labels.append(int(row[1]))
    return Corpus(*parts["train"], *parts["test"])
