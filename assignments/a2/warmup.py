"""Run once in the sandbox's zygote before it forks a worker per submission (rubric: warmup).

train_skipgram trains with torch.optim.SGD and nn.Embedding: torch.optim pulls in
torch._dynamo (~800 modules, ~1 s) on first use, which every forked worker would otherwise pay
again. Nothing secret may be loaded here.
"""

import torch

embed = torch.nn.Embedding(4, 2)
optimizer = torch.optim.SGD(embed.parameters(), lr=0.1)
loss = torch.nn.functional.logsigmoid(embed(torch.tensor([0, 1])).sum(1)).mean()
loss.backward()
optimizer.step()
