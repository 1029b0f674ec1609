"""Hidden checks of sgns_loss, sgns_gradients and sgns_step against the reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

SIZES = ((4, 1), (10, 5), (6, 3))
"""(d, K) of the random examples: one negative, and several."""


def example(rng, helpers, d, k, scale=0.8):
    return (helpers.f32(rng.normal(0, scale, d)), helpers.f32(rng.normal(0, scale, d)),
            helpers.f32(rng.normal(0, scale, (k, d))))


@pytest.mark.rubric("loss-random")
def test_sgns_loss_random(pure, expect, reference, rng, helpers):
    for d, k in SIZES:
        v, u, U = example(rng, helpers, d, k)
        call = expect.sig(v_c=v, u_o=u, U_neg=U)
        expect.scalar(pure.sgns_loss(v, u, U),
                      reference.sgns_loss(v.double(), u.double(), U.double()), call,
                      variants=helpers.loss_variants(v, u, U))


def check_gradients(pure, expect, reference, helpers, v, u, U):
    call = expect.sig(v_c=v, u_o=u, U_neg=U)
    want = reference.sgns_gradients(v.double(), u.double(), U.double())
    got = expect.sequence(pure.sgns_gradients(v, u, U), call, 3)
    variants = helpers.gradient_variants(v, u, U)
    for name, item, right, wrong in zip(("d_v_c", "d_u_o", "d_U_neg"), got, want, variants,
                                        strict=True):
        expect.close(item, right, f"{call} -> {name}", variants=wrong)


@pytest.mark.rubric("grads-random")
def test_sgns_gradients_random(pure, expect, reference, rng, helpers):
    for d, k in SIZES:
        check_gradients(pure, expect, reference, helpers, *example(rng, helpers, d, k))


@pytest.mark.rubric("grads-large")
def test_sgns_gradients_large_dots(pure, expect, reference, helpers):
    cases = (  # dot products of 1e4 in magnitude: sigma must not overflow
        ([100.0, 0.0, 0.0, 0.0], [100.0, 0.0, 0.0, 0.0],
         [[-100.0, 0.0, 0.0, 0.0], [100.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]),
        ([100.0, 1.0], [-100.0, 0.0], [[50.0, 0.0]]),
        ([0.0, 50.0, 50.0], [0.0, -100.0, 0.0], [[0.0, 0.0, -100.0], [0.0, 200.0, 0.0]]),
    )
    for v, u, U in cases:
        check_gradients(pure, expect, reference, helpers, *(torch.tensor(a) for a in (v, u, U)))


def reference_step(reference, W_in, W_out, centre, context, negatives, lr):
    a, b = W_in.double().clone(), W_out.double().clone()
    loss = reference.sgns_step(a, b, centre, context, negatives, lr)
    return loss, a.numpy(), b.numpy()


@pytest.mark.rubric("step-random")
def test_sgns_step_random(student, expect, reference, rng, helpers):
    for trial, lr in enumerate((0.05, 0.5, 1.0)):
        vocab_size, d, k = 12, 5, 5
        W_in = helpers.f32(rng.normal(0, 0.5, (vocab_size, d)))
        W_out = helpers.f32(rng.normal(0, 0.5, (vocab_size, d)))
        centre, context = (int(i) for i in rng.integers(0, vocab_size, 2))
        negatives = torch.tensor(rng.integers(0, 4, k))  # few rows to draw from: repeats
        if trial == 1:
            negatives[0] = context  # the context word drawn as a negative
        call = (f"sgns_step(W_in {tuple(W_in.shape)}, W_out {tuple(W_out.shape)}, centre, "
                f"context, negatives ({k},), lr)")
        args = (W_in, W_out, centre, context, negatives, lr)
        helpers.step_check(student, expect, call, args, reference_step(reference, *args))


@pytest.mark.rubric("step-rows")
def test_sgns_step_other_rows_untouched(student, expect, reference, rng, helpers):
    vocab_size, d = 9, 4
    centre, context, negatives = 4, 7, torch.tensor([1, 5, 2])  # distinct rows
    W_in = helpers.f32(rng.normal(0, 0.5, (vocab_size, d)))
    for W_out in (torch.zeros(vocab_size, d), helpers.f32(rng.normal(0, 0.5, (vocab_size, d)))):
        # W_out starts at zero in word2vec: then only W_out's rows move, W_in's cannot
        call = (f"sgns_step(W_in {tuple(W_in.shape)}, W_out {tuple(W_out.shape)}"
                f"{' of zeros' if not W_out.any() else ''}, centre, context, negatives (3,), lr)")
        args = (W_in, W_out, centre, context, negatives, 0.5)
        new_in, new_out = helpers.step_check(student, expect, call, args,
                                             reference_step(reference, *args))
        for name, before, now, allowed in (("W_in", W_in, new_in, {centre}),
                                           ("W_out", W_out, new_out,
                                            {context, *negatives.tolist()})):
            changed = {int(i) for i in np.flatnonzero((now != before.numpy()).any(axis=1))}
            expect.that(changed <= allowed,
                        f"{call} changed {len(changed - allowed)} row(s) of {name} that are "
                        "neither the centre's (W_in) nor the context's or a negative's (W_out)")
