"""Small targets and predictions shared by the loss and metric tests, whose expected values
were computed from these same tensors with real Keras 3.15 (torch backend)."""

import torch

Y_BIN = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
P_BIN = torch.tensor([[0.1, 0.8, 0.6], [0.7, 0.2, 1.0]])
LOGITS = torch.tensor([[-2.0, 1.5, 0.3], [0.8, -0.4, 4.0]])
WEIGHTS = torch.tensor([0.5, 2.0])
Y_CAT = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
P_CAT = torch.tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
Y_REG = torch.tensor([[1.0, 2.0], [3.0, -1.0]])
P_REG = torch.tensor([[1.5, 1.0], [2.0, 0.5]])
