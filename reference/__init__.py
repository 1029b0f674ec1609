"""The ground truth of dl-grader: pure, documented reference implementations.

Every name of the Assignment 1 student API (../shared/spec/a1-api.md) is importable from here
with the student's signature, plus the helpers the checks need. This package is the
instructor's side: it is never installed with the grader and never imported by a worker.
"""

from .classifier import LogisticRegression, accuracy, predict, train_classifier
from .data import Corpus, load_sentiment_tsv
from .gradients import (
    fit_line,
    least_squares_line,
    mse_gradients,
    sgd_step,
    softmax_regression_gradients,
)
from .losses import cross_entropy, log_softmax, logsumexp, mse, softmax
from .text import bag_of_words, bag_of_words_matrix, build_vocab, tokenize

A1_NAMES = (
    "mse", "softmax", "cross_entropy", "mse_gradients", "sgd_step", "fit_line",
    "softmax_regression_gradients", "build_vocab", "bag_of_words", "LogisticRegression",
    "train_classifier",
)

__all__ = [
    "A1_NAMES", "Corpus", "LogisticRegression", "accuracy", "bag_of_words",
    "bag_of_words_matrix", "build_vocab", "cross_entropy", "fit_line", "least_squares_line",
    "load_sentiment_tsv", "log_softmax", "logsumexp", "mse", "mse_gradients", "predict",
    "sgd_step", "softmax", "softmax_regression_gradients", "tokenize", "train_classifier",
]
