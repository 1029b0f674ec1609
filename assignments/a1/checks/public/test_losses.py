"""Public checks of mse, softmax and cross_entropy: the lecture's numbers and torch itself."""

from __future__ import annotations

import math

import pytest
import torch


@pytest.mark.rubric("mse-lecture")
def test_mse_lecture(student, expect):
    # The lecture's line y = 0.2 x + 12 predicts 24 at x = 60 where y = 63: loss 39² = 1521.
    y_hat, y = torch.tensor([24.0]), torch.tensor([63.0])
    expect.scalar(student.mse(y_hat, y), 1521.0, expect.sig(y_hat=y_hat, y=y))
    y_hat, y = torch.tensor([24.0, 30.0, 10.0]), torch.tensor([63.0, 30.0, 13.0])
    expect.scalar(student.mse(y_hat, y), (1521.0 + 0.0 + 9.0) / 3, expect.sig(y_hat=y_hat, y=y),
                  n=3)


@pytest.mark.rubric("softmax-vector")
def test_softmax_vector(student, expect):
    z = torch.tensor([1.0, 2.0, 3.0, -1.0])
    expect.close(student.softmax(z), torch.softmax(z.double(), -1), expect.sig(z=z))


@pytest.mark.rubric("softmax-large-logits")
def test_softmax_large_logits(student, expect):
    for z in (torch.tensor([1e4, 0.0, -1e4]),
              torch.tensor([[1e4, 1e4 - 1.0, 0.0], [-1e4, 0.0, 5.0]])):
        expect.close(student.softmax(z), torch.softmax(z.double(), -1), expect.sig(z=z))


@pytest.mark.rubric("ce-lecture")
def test_cross_entropy_lecture(student, expect):
    y = torch.tensor([1.0, 0.0])
    for p, value in ((0.9, -math.log(0.9)), (0.1, -math.log(0.1)), (0.5, -math.log(0.5))):
        p_hat = torch.tensor([p, 1.0 - p])
        expect.scalar(student.cross_entropy(p_hat, y), value, expect.sig(p_hat=p_hat, y=y))
