"""The AS-CAL encoder: an LSTM over skeleton frames whose temporal mean is the CAE (docs/methods.md §4.2).

Each frame (C, V, M) is flattened to one vector of C·V·M values with index c·V·M + v·M + m
(all x, then all y, then all z, body index fastest): 150 values for NTU-25 with two bodies.
The Contrastive Action Encoding (CAE) is the average of the top layer's hidden states over
**all** T steps, zero-padded steps included, as in the official code.
"""

from __future__ import annotations

import torch
from torch import nn


def frames_to_vectors(x: torch.Tensor) -> torch.Tensor:
    """x: (N, C, T, V, M) -> (N, T, C·V·M), index c·V·M + v·M + m inside each frame."""
    n, c, t, v, m = x.shape
    return x.permute(0, 2, 1, 3, 4).reshape(n, t, c * v * m)


class LSTMEncoder(nn.Module):
    """LSTM(input_size → hidden_size, num_layers), then temporal pooling of the top hidden states.

    Input ``x: (N, C, T, V, M)`` raw frames, or ``(N, T, input_size)`` vectors; output ``(N, out_dim)``.
    ``pooling``: ``"mean"`` (the CAE, default), ``"sum"`` or ``"last"`` (the official options).
    Unidirectional by default, dropout 0, PyTorch's default init U(±1/√H), no embedding layer.
    """

    def __init__(self, input_size: int, hidden_size: int = 256, num_layers: int = 1,
                 pooling: str = "mean", bidirectional: bool = False):
        super().__init__()
        if pooling not in ("mean", "sum", "last"):
            raise ValueError(f"LSTMEncoder: pooling expected 'mean', 'sum' or 'last', got {pooling!r}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.pooling = pooling
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers, batch_first=True,
                            bidirectional=bidirectional)
        self.out_dim = hidden_size * (2 if bidirectional else 1)

    def hidden_states(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C, T, V, M) or (N, T, F) -> top-layer hidden states h: (N, T, out_dim)."""
        if x.ndim == 5:
            x = frames_to_vectors(x)
        if x.ndim != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"LSTMEncoder: expected (N, C, T, V, M) with C·V·M = {self.input_size} "
                             f"or (N, T, {self.input_size}), got {tuple(x.shape)}")
        h, _ = self.lstm(x)
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.hidden_states(x)                       # (N, T, D)
        if self.pooling == "mean":
            return h.mean(dim=1)                        # CAE: padded steps count too (official)
        if self.pooling == "sum":
            return h.sum(dim=1)
        return h[:, -1]

    def extra_repr(self) -> str:
        return f"pooling={self.pooling!r}, out_dim={self.out_dim}"
