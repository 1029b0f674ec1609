"""Public checks of sigmoid, tokenize, build_vocab, skipgram_pairs and negative_distribution."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch


@pytest.mark.rubric("sigmoid-values")
def test_sigmoid_values(pure, expect, helpers):
    for x in (torch.tensor([[-3.0, -1.0, 0.0], [0.5, 2.0, 6.0]]), torch.tensor([-0.25, 0.0, 4.0])):
        flat = x.double().numpy()
        softmax = np.exp(flat - flat.max()) / np.exp(flat - flat.max()).sum()
        expect.close(pure.sigmoid(x), helpers.sigmoid(flat), helpers.sig(expect, x=x),
                     variants=[helpers.variant("softmax-not-sigmoid", softmax),
                               helpers.variant("sigmoid-sign", helpers.sigmoid(-flat))])


@pytest.mark.rubric("sigmoid-large")
def test_sigmoid_large(pure, expect, helpers):
    for x in (torch.tensor([-1e4, -1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0, 1e4]),
              torch.tensor([[1e4, -1e4], [88.0, 89.0], [-88.0, -89.0]])):
        flat = x.double().numpy()
        softmax = np.exp(flat - flat.max()) / np.exp(flat - flat.max()).sum()
        expect.close(pure.sigmoid(x), helpers.sigmoid(flat), helpers.sig(expect, x=x),
                     variants=[helpers.variant("softmax-not-sigmoid", softmax)])


@pytest.mark.rubric("tokenize-small")
def test_tokenize_small(pure, expect, helpers):
    for text in ("The cat's 2 hats -- DON'T stop!", "Rock'n'roll, 1999-style\tCafé\nNEW line",
                 ""):
        want = re.findall(r"[a-z0-9']+", text.lower())
        helpers.str_list(expect, pure.tokenize(text), want, f"tokenize({text!r})",
                         helpers.token_variants(text))


VOCAB_TOKENS = "the cat sat on the mat the dog sat on a log".split()


@pytest.mark.rubric("vocab-order")
def test_build_vocab_order(pure, expect, helpers):
    # counts: the 3, sat 2, on 2, then five words once; ties must be alphabetical, and the
    # first-seen order (sat before on, cat before a) is not
    tokens = VOCAB_TOKENS
    shown = f"build_vocab({' '.join(tokens)!r}.split()"
    first_seen = {w: i for i, w in enumerate(["the", "sat", "on", "cat", "mat", "dog", "a",
                                               "log"])}
    for min_count, want, counts, wrong in (
            (1, {"the": 0, "on": 1, "sat": 2, "a": 3, "cat": 4, "dog": 5, "log": 6, "mat": 7},
             [3, 2, 2, 1, 1, 1, 1, 1], [helpers.variant("ties-not-alphabetical", first_seen)]),
            (2, {"the": 0, "on": 1, "sat": 2}, [3, 2, 2],
             [helpers.variant("min-count-exclusive", {"the": 0}),
              helpers.variant("ties-not-alphabetical", {"the": 0, "sat": 1, "on": 2})])):
        call = f"{shown}, min_count={min_count})"
        got = expect.sequence(pure.build_vocab(tokens, min_count), call, 2)
        helpers.vocab(expect, got[0], want, f"{call} -> word_to_index", wrong)
        helpers.int_tensor(expect, got[1], np.array(counts), f"{call} -> counts")


@pytest.mark.rubric("pairs-worked")
def test_skipgram_pairs_worked(pure, expect, helpers):
    cases = (([0, 1, 2], 1, [[0, 1], [1, 0], [1, 2], [2, 1]]),
             ([5, 6, 7, 8], 2, None), ([3, 1, 3, 4, 1], 3, None))
    for ids, window, worked in cases:
        want = helpers.pairs_of(ids, window) if worked is None else np.array(worked)
        helpers.int_tensor(expect, pure.skipgram_pairs(ids, window), want,
                           f"skipgram_pairs({ids}, window={window})",
                           helpers.pair_variants(ids, window))


@pytest.mark.rubric("pairs-empty")
def test_skipgram_pairs_empty(pure, expect, helpers):
    for ids, window in (([], 2), ([4], 3), ([1, 2, 3], 0)):
        helpers.int_tensor(expect, pure.skipgram_pairs(ids, window),
                           np.zeros((0, 2), dtype=np.int64),
                           f"skipgram_pairs({ids}, window={window}) (no pairs: shape (0, 2))",
                           [*helpers.pair_variants(ids, window),
                            helpers.variant("empty-shape", np.zeros(0, dtype=np.int64))])


@pytest.mark.rubric("negdist-power")
def test_negative_distribution_power(pure, expect, helpers):
    counts = torch.tensor([16, 1, 81, 256])
    c = counts.double().numpy()
    for power, args in ((0.75, ()), (0.5, (0.5,)), (1.0, (1.0,))):
        weights = c ** power
        call = expect.sig(counts=counts, **({"power": power} if args else {}))
        variants = [helpers.variant("power-missing", c / c.sum()),
                    helpers.variant("not-normalised", weights),
                    helpers.variant("power-ignored", c ** 0.75 / (c ** 0.75).sum())]
        expect.close(pure.negative_distribution(counts, *args), weights / weights.sum(), call,
                     variants=[v for v in variants
                               if not np.allclose(v.value, weights / weights.sum())])
