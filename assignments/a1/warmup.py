"""Run once in the sandbox's zygote before it forks a worker per submission (rubric: warmup).

One optimizer step: torch.optim pulls in torch._dynamo (~800 modules, ~1 s) on first use,
which every forked worker would otherwise pay again. Nothing secret may be loaded here.
"""

import torch

model = torch.nn.Linear(2, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
loss = torch.nn.functional.cross_entropy(model(torch.zeros(1, 2)), torch.zeros(1, dtype=torch.long))
loss.backward()
optimizer.step()
