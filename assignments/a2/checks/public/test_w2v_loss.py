"""Public checks of sgns_loss, sgns_gradients and sgns_step: the lecture's numbers and autograd."""

from __future__ import annotations

import pytest
import torch

# The lecture's example, then one where no dot product is zero (so every sign shows).
WORKED = (torch.tensor([1.0, 0.0]), torch.tensor([1.0, 0.0]), torch.tensor([[0.0, 1.0]]))
SMALL = (torch.tensor([0.5, -1.0, 2.0]), torch.tensor([1.0, 0.5, 0.25]),
         torch.tensor([[0.3, -0.2, 0.1], [-1.0, 0.4, 0.6]]))


@pytest.mark.rubric("loss-worked")
def test_sgns_loss_worked(pure, expect, helpers):
    for (v, u, U), value in ((WORKED, 1.0064089), (SMALL, helpers.loss_of(*SMALL))):
        expect.scalar(pure.sgns_loss(v, u, U), value,
                      helpers.sig(expect, v_c=v, u_o=u, U_neg=U),
                      variants=helpers.loss_variants(v, u, U))


@pytest.mark.rubric("loss-large-dots")
def test_sgns_loss_large_dots(pure, expect, helpers):
    cases = (  # dot products of 1e4 in magnitude: log sigma(x) must not be log(0)
        (torch.tensor([100.0, 0.0, 0.0]), torch.tensor([100.0, 0.0, 0.0]),
         torch.tensor([[-100.0, 0.0, 0.0], [0.0, 1.0, 0.0]])),
        (torch.tensor([100.0, 0.0, 0.0]), torch.tensor([-100.0, 0.0, 0.0]),
         torch.tensor([[100.0, 0.0, 0.0]])),
        (torch.tensor([30.0, 1.0]), torch.tensor([-30.0, 0.0]), torch.tensor([[0.0, 5.0]])),
    )
    for v, u, U in cases:
        expect.scalar(pure.sgns_loss(v, u, U), helpers.loss_of(v, u, U),
                      helpers.sig(expect, v_c=v, u_o=u, U_neg=U),
                      variants=helpers.loss_variants(v, u, U))


@pytest.mark.rubric("grads-worked")
def test_sgns_gradients_worked(pure, expect, helpers):
    for v, u, U in (WORKED, SMALL):
        leaves = [t.double().requires_grad_() for t in (v, u, U)]
        a, b, c = leaves
        loss = (-torch.nn.functional.logsigmoid(b @ a)
                - torch.nn.functional.logsigmoid(-(c @ a)).sum())
        loss.backward()
        call = helpers.sig(expect, v_c=v, u_o=u, U_neg=U)
        got = expect.sequence(pure.sgns_gradients(v, u, U), call, 3)
        variants = helpers.gradient_variants(v, u, U)
        for name, item, leaf, wrong in zip(("d_v_c", "d_u_o", "d_U_neg"), got, leaves, variants,
                                           strict=True):
            expect.close(item, leaf.grad, f"{call} -> {name}", variants=wrong)


def step_call(student, expect, helpers, W_in, W_out, centre, context, negatives, lr):
    """Run sgns_step; check the loss it returns and both matrices after it (by autograd)."""
    call = (f"sgns_step(W_in {tuple(W_in.shape)}, W_out {tuple(W_out.shape)}, "
            f"centre={centre}, context={context}, negatives={negatives.tolist()}, lr={lr})")
    want = helpers.autograd_step(W_in, W_out, centre, context, negatives.tolist(), lr)
    helpers.step_check(student, expect, call, (W_in, W_out, centre, context, negatives, lr),
                       want)


@pytest.mark.rubric("step-worked")
def test_sgns_step_worked(student, expect, helpers):
    W_in = torch.tensor([[0.1, -0.2, 0.3], [0.5, 0.4, -0.3], [-0.2, 0.1, 0.0], [0.3, 0.3, 0.3]])
    W_out = torch.tensor([[0.2, 0.1, -0.1], [0.0, 0.3, 0.2], [0.4, -0.5, 0.1], [-0.3, 0.2, 0.6]])
    step_call(student, expect, helpers, W_in, W_out, 1, 2, torch.tensor([0, 3]), 0.5)


@pytest.mark.rubric("step-duplicates")
def test_sgns_step_duplicates(student, expect, helpers):
    W_in = torch.tensor([[0.6, -0.4, 0.2], [0.1, 0.1, 0.1], [0.3, 0.0, -0.5], [0.2, 0.2, 0.2],
                         [-0.1, 0.5, 0.3]])
    W_out = torch.tensor([[0.1, 0.2, 0.3], [0.2, -0.1, 0.0], [0.5, 0.4, -0.2], [-0.3, 0.6, 0.1],
                          [0.0, 0.1, -0.4]])
    # a negative drawn twice (3), and the context word drawn as a negative (2)
    step_call(student, expect, helpers, W_in, W_out, 0, 2, torch.tensor([3, 2, 3]), 0.4)
