"""Hidden checks of sigmoid, tokenize, build_vocab, skipgram_pairs and negative_distribution."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.mark.rubric("sigmoid-random")
def test_sigmoid_random(pure, expect, reference, rng, helpers):
    for shape in ((), (7,), (3, 4), (2, 3, 5)):
        x = helpers.f32(rng.normal(0, 8, shape))  # moderate: sigmoid-large grades stability
        call = expect.sig(x=x)
        flat = x.double().numpy()
        softmax = np.exp(flat - flat.max()) / np.exp(flat - flat.max()).sum()
        expect.close(pure.sigmoid(x), reference.sigmoid(x.double()), call,
                     variants=[helpers.variant("softmax-not-sigmoid", softmax)])


@pytest.mark.rubric("tokenize-corpus")
def test_tokenize_corpus(pure, expect, reference, corpus_text, helpers):
    lines = corpus_text.splitlines()
    texts = [*lines[:5], "\n".join(lines[:60]), "", "  ...  --  !!", "Rock'n'roll 4EVER_and_ever",
             "Ünïcode CAFÉ, naïve café", "'Tis the 1990s' end\r\n\tO'Brien's 3rd"]
    for text in texts:
        call = f"tokenize(a text of {len(text)} characters)"
        helpers.str_list(expect, pure.tokenize(text), reference.tokenize(text), call,
                         helpers.token_variants(text))


@pytest.mark.rubric("vocab-corpus")
def test_build_vocab_corpus(pure, expect, reference, helpers):
    tokens = reference.load_corpus()
    first_seen = {w: i for i, w in enumerate(dict.fromkeys(tokens))}
    for min_count in (1, 3, 10**6):
        want, counts = reference.build_vocab(tokens, min_count)
        # sorted by count only, ties left in the order of first appearance
        stable = sorted(want, key=lambda w: (-int(counts[want[w]]), first_seen[w]))
        wrong = [helpers.variant("ties-not-alphabetical", {w: i for i, w in enumerate(stable)})]
        call = f"build_vocab(the corpus's {len(tokens)} tokens, min_count)"
        got = expect.sequence(pure.build_vocab(tokens, min_count), call, 2)
        helpers.vocab(expect, got[0], want, f"{call} -> word_to_index",
                      [v for v in wrong if v.value != want])
        helpers.int_tensor(expect, got[1], counts.numpy(), f"{call} -> counts")


@pytest.mark.rubric("pairs-random")
def test_skipgram_pairs_random(pure, expect, reference, rng, helpers):
    for n, window in ((2, 1), (5, 2), (9, 3), (14, 2), (6, 9), (30, 4)):
        ids = [int(i) for i in rng.integers(0, 6, n)]  # repeated ids, as in a real text
        call = expect.sig(ids=torch.tensor(ids), window=window)
        want = reference.skipgram_pairs(ids, window).numpy()
        helpers.int_tensor(expect, pure.skipgram_pairs(ids, window), want, call,
                           helpers.pair_variants(ids, window))


@pytest.mark.rubric("negdist-random")
def test_negative_distribution_random(pure, expect, reference, rng, helpers):
    for v, power in ((30, None), (30, 1.0), (12, 0.0), (50, 0.3), (8, 0.75), (20, 2.0)):
        counts = torch.tensor(rng.integers(1, 500, v))
        c = counts.double().numpy()
        args = () if power is None else (power,)
        want = reference.negative_distribution(counts, *args).double().numpy()
        p = 0.75 if power is None else power
        variants = [helpers.variant("power-missing", c / c.sum()),
                    helpers.variant("not-normalised", c ** p),
                    helpers.variant("power-ignored", c ** 0.75 / (c ** 0.75).sum())]
        call = expect.sig(counts=counts, **({} if power is None else {"power": power}))
        expect.close(pure.negative_distribution(counts, *args), want, call,
                     variants=[x for x in variants if not np.allclose(x.value, want)])
