"""The ground truth of Assignment 2: word2vec, skip-gram with negative sampling.

Every name of the A2 student API (shared/spec/a2-api.md) is importable from here with the
student's signature (listed in ``A2_NAMES``), plus the helpers the checks need: a stable
``log_sigmoid``, ``cosine_matrix``, the planted-group measures ``group_recall`` and
``group_precision``, the bundled corpus (``load_corpus``, ``GROUPS``) and the hyper-parameters
the checks train with (``CHECK_W2V``, ``CHECK_SKIPGRAM``).

The modules import each other relatively only: the grader loads this package by path under a
private module name. It never imports ``grader`` or the top-level (A1) ``reference``.
"""

from .data import (
    CHECK_MIN_RECALL,
    CHECK_RECALL_K,
    CHECK_SKIPGRAM,
    CHECK_W2V,
    CORPUS_PATH,
    GROUPS,
    load_corpus,
)
from .model import SkipGram, train_skipgram
from .sgns import log_sigmoid, sgns_gradients, sgns_loss, sgns_step, sigmoid
from .similarity import (
    cosine_matrix,
    group_precision,
    group_recall,
    most_similar,
    neighbours,
)
from .text import build_vocab, negative_distribution, skipgram_pairs, tokenize
from .training import init_embeddings, train_word2vec

A2_NAMES = (
    "sigmoid", "tokenize", "build_vocab", "skipgram_pairs", "negative_distribution",
    "sgns_loss", "sgns_gradients", "sgns_step", "train_word2vec", "most_similar", "SkipGram",
    "train_skipgram",
)

__all__ = [
    "A2_NAMES", "CHECK_MIN_RECALL", "CHECK_RECALL_K", "CHECK_SKIPGRAM", "CHECK_W2V",
    "CORPUS_PATH", "GROUPS", "SkipGram",
    "build_vocab", "cosine_matrix", "group_precision", "group_recall", "init_embeddings",
    "load_corpus", "log_sigmoid", "most_similar", "negative_distribution", "neighbours",
    "sgns_gradients", "sgns_loss", "sgns_step", "sigmoid", "skipgram_pairs", "tokenize",
    "train_skipgram", "train_word2vec",
]
