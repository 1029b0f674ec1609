"""The bundled corpus (assignments/a2/data/corpus.txt), its planted groups, check settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .text import tokenize

CORPUS_PATH = Path(__file__).resolve().parents[1] / "data" / "corpus.txt"

# The planted structure (see ../data/README.md): every word of a group fills the same slots of
# the same sentence templates, so its contexts are its group-mates' contexts.
GROUPS: dict[str, list[str]] = {
    "fruits": ["apple", "mango", "pear", "plum", "peach"],
    "tools": ["hammer", "saw", "drill", "chisel", "wrench"],
    "colours": ["red", "blue", "green", "yellow", "purple"],
    "weekdays": ["monday", "tuesday", "wednesday", "thursday", "friday"],
    "animals": ["horse", "goat", "sheep", "cow", "donkey"],
    "instruments": ["violin", "cello", "flute", "trumpet", "harp"],
}

# Hyper-parameters the checks pass to the training functions on the bundled corpus
# (1,939 tokens, V = 224, 7,750 skip-gram pairs at window 2). Measured on the course machine
# (2 vCPUs shared with other jobs, OMP_NUM_THREADS=1 as in the grader's workers), seeds 0-9,
# with group_recall / group_precision at k = 3 over the 30 planted words:
# - train_word2vec(CHECK_W2V): 0.5-0.75 s of CPU per run (0.5 s wall when the machine is
#   idle), recall@3 = 1.0 for every seed, precision@3 0.86-0.99. Weaker settings: epochs=3
#   gives recall@3 0.87-1.0 (precision 0.59-0.72); epochs=5 with lr=0.05, 0.90-0.97.
#   A float32 per-pair-torch version of the same procedure, as a student would write it
#   (negatives drawn pair by pair, random.shuffle), reached recall@3 = 1.0 on seeds 0-2 in
#   about 3 s a run.
# - train_skipgram(CHECK_SKIPGRAM): 1.0 s of CPU per run on an idle machine (1.2-2.8 s when
#   it was loaded), recall@3 = 1.0 and precision@3 0.97-1.0 for every seed. lr=1.0 with 20
#   epochs gives recall@3 0.97-1.0 but precision@3 only 0.88-0.93. With torch's default two
#   intra-op threads on the loaded 2-vCPU machine the same run took 4-30 s of wall time
#   (oversubscription, not work).
CHECK_W2V: dict[str, Any] = {"dim": 16, "window": 2, "k": 5, "epochs": 5, "lr": 0.1}
# - train_skipgram with epochs=8, lr=3.0 (chosen for grading time, 2026-11-30): 0.4 s of CPU
#   per run, recall@3 = 1.0 on seeds 0-11 but one (0.97), for the reference, the solution and
#   examples/correct.py alike; the 20-epoch lr=1.5 run above costs 0.9-1.6 s for the same.
CHECK_SKIPGRAM: dict[str, Any] = {"dim": 16, "window": 2, "k": 5, "epochs": 8, "lr": 3.0,
                                  "batch_size": 64}
# What a run with those settings recovers on every seed measured, and the floor a check can
# demand with a margin (chance level of recall@3 is about 0.05: groups of 5 in 224 words).
CHECK_RECALL_K = 3
CHECK_MIN_RECALL = 0.8


def load_corpus(path: Path | None = None) -> list[str]:
    """The corpus as one token stream: tokenize() of the whole file (lines are sentences)."""
    return tokenize(Path(path or CORPUS_PATH).read_text(encoding="utf-8"))
