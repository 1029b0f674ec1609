"""Assignment 1: Loss functions, gradients and SGD. Starter code.

Replace each `raise NotImplementedError` with your implementation; handout.md describes every
task, with formulas, worked values and hints. Keep the names and signatures exactly as they
are: the grader calls them. Rules in brief: this one file only; import only torch, numpy and
the standard library, at the top of the module; no network and no file I/O; never modify an
argument in place; and do no work at import time (put scratch tests under
`if __name__ == "__main__":`).

Self-check with:  grader check submission.py --assignment a1
"""

import re

import torch


# ---------------------------------------------------------------- Part A: losses and softmax


def mse(y_hat, y):
    """Mean squared error: the mean over i of (y_hat[i] - y[i]) ** 2.

    y_hat, y: float tensors of shape (N,).
    Returns a 0-d tensor. Example: mse(tensor([24.]), tensor([63.])) is 1521.
    Hint: average, don't just sum.
    """
    raise NotImplementedError


def softmax(z):
    """Softmax over the last dimension of z.

    z: logits of shape (C,) or (N, C) (one example per row).
    Returns a tensor of the same shape; each row (or the vector) sums to 1.
    Hint: subtract each row's maximum before exponentiating (keepdim=True helps) so logits as
    large as 1e4 do not overflow. Do not call torch.softmax.
    """
    raise NotImplementedError


def cross_entropy(p_hat, y):
    """Cross-entropy of predicted probabilities p_hat against targets y (same shape).

    Shape (C,): returns the 0-d tensor -sum_k y[k] * log(p_hat[k]).
    Shape (N, C): returns the mean of that quantity over the N rows.
    y is one-hot or a probability distribution. Terms with y[k] == 0 must contribute exactly 0,
    even where p_hat[k] == 0 (log 0 is -inf, and 0 * -inf is nan).
    Example: cross_entropy(tensor([0.9, 0.1]), tensor([1., 0.])) is about 0.105.
    """
    raise NotImplementedError


# ---------------------------------------------------------------- Part B: a line by hand


def mse_gradients(m, c, x, y):
    """Gradients (dL/dm, dL/dc), as two numbers, of L = mse(m * x + c, y).

    m, c: numbers; x, y: tensors of shape (N,).
    Hint: dL/dm = -(2/N) sum_i x_i (y_i - y_hat_i) and dL/dc = -(2/N) sum_i (y_i - y_hat_i).
    Example: mse_gradients(0.2, 12.0, tensor([60.]), tensor([63.])) is (-4680.0, -78.0).
    Do not use autograd.
    """
    raise NotImplementedError


def sgd_step(m, c, x_i, y_i, lr):
    """One SGD update on a single example; returns (new_m, new_c).

    All arguments are numbers. The loss is (y_i - (m * x_i + c)) ** 2; step against its
    gradient with learning rate lr, computing both gradients from the old m and c.
    Example: sgd_step(0.2, 12.0, 60.0, 63.0, lr=1e-4) is (0.668, 12.0078).
    """
    raise NotImplementedError


def fit_line(x, y, lr, epochs, seed=0, m=0.0, c=0.0):
    """Fit y = m * x + c by single-example SGD; returns (m, c, losses).

    x, y: tensors of shape (N,). Start from the given m and c. Each epoch visits every example
    once, in an order shuffled by a generator seeded with `seed`, and updates m and c after each
    example. `losses` is a list of `epochs` floats: the MSE over the whole data after each epoch.
    Hint: g = torch.Generator().manual_seed(seed), then torch.randperm(N, generator=g) per epoch.
    """
    raise NotImplementedError


# ---------------------------------------------------------------- Part C: softmax regression


def softmax_regression_gradients(W, b, x, y):
    """Gradients (dW, db) of cross_entropy(softmax(W @ x + b), y) for one example, by hand.

    W: (C, V), b: (C,), x: (V,), y: one-hot (C,).
    Returns dW of shape (C, V) and db of shape (C,), as tensors.
    Hint: with p = softmax(W @ x + b), dL/dz = p - y; dW is the outer product of that with x.
    Do not use autograd.
    """
    raise NotImplementedError


# ---------------------------------------------------------------- Part D: sentiment classifier


def build_vocab(sentences):
    """A dict mapping every token of the sentences to a distinct index in 0..V-1.

    Tokens: re.findall(r"[a-z0-9']+", sentence.lower()).
    """
    raise NotImplementedError


def bag_of_words(sentence, vocab):
    """Token counts of `sentence` as a float tensor of shape (len(vocab),).

    Entry vocab[w] counts the occurrences of token w; tokens not in vocab are ignored.
    Tokenize as in build_vocab.
    """
    raise NotImplementedError


class LogisticRegression(torch.nn.Module):
    """Logistic regression over bag-of-words features.

    forward maps (N, vocab_size) rows to (N, n_classes) logits: a linear layer, no softmax.
    """

    def __init__(self, vocab_size, n_classes=2):
        # Hint: call super().__init__() first, then create a torch.nn.Linear.
        raise NotImplementedError

    def forward(self, x):
        """(N, vocab_size) bag-of-words rows -> (N, n_classes) logits."""
        raise NotImplementedError


def train_classifier(sentences, labels, vocab, epochs=20, lr=0.1, seed=0):
    """Train and return a LogisticRegression sentiment classifier.

    sentences: list of str; labels: list of int (0 = negative, 1 = positive); vocab: a dict as
    from build_vocab (use this one, do not build your own). Featurize with bag_of_words, seed
    with `seed`, and train with torch.optim.SGD(model.parameters(), lr=lr) and cross-entropy,
    one example at a time (batch size 1), shuffling the examples every epoch. Each step: zero
    the gradients, forward, loss, backward, step.
    """
    raise NotImplementedError
