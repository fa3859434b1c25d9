"""Dropout that draws exactly the masks of ``nn.Dropout`` from the same CPU random stream, faster.

On the CPU, ``nn.Dropout`` in training draws its mask with ``bernoulli_(q)`` (q = 1 − p), one
element at a time: each element takes a 64-bit word m from the generator and keeps the entry when
u = (m mod 2⁵³)·2⁻⁵³ < q, i.e. when (m mod 2⁵³) < ⌈q·2⁵³⌉. ``random_()`` on an int64 tensor
takes the same 64-bit words from the same stream (it keeps m mod 2⁶³), and does so more than
twice as fast, so the mask can be read off those words with one comparison. The noise is then
scaled by 1/q and multiplied in, as ``nn.Dropout`` does: the same masks, the same values, the
same state of the generator afterwards. The words are drawn in chunks that stay in the cache.

The equivalence rests on how torch's CPU generator implements ``bernoulli_`` and ``random_``; a
check at first use compares both on a private generator and falls back to ``nn.Dropout``'s own
computation if they ever disagree. Other devices always use ``nn.Dropout``'s computation.
"""

from __future__ import annotations

import functools
import math

import torch
from torch import nn

_MANTISSA = (1 << 53) - 1      # the 53 bits a double uniform in [0, 1) is made of
CHUNK = 1 << 16                # 64-bit words per chunk (512 KiB)


def bernoulli_noise(like: torch.Tensor, keep_prob: float,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """``torch.empty_like(like).bernoulli_(keep_prob).div_(keep_prob)`` on the CPU, bit for bit
    and with the same random numbers, drawn through ``random_`` on int64 words (see the module)."""
    n = like.numel()
    noise = torch.empty(like.shape, dtype=like.dtype)
    flat = noise.view(-1)
    threshold = math.ceil(keep_prob * 2.0 ** 53)       # exact: a power-of-two scaling
    words = torch.empty(min(n, CHUNK), dtype=torch.int64)
    keep = torch.empty(min(n, CHUNK), dtype=torch.bool)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        m = words[:stop - start].random_(generator=generator).bitwise_and_(_MANTISSA)
        flat[start:stop].copy_(torch.lt(m, threshold, out=keep[:stop - start])).div_(keep_prob)
    return noise


@functools.cache
def same_stream_as_bernoulli() -> bool:
    """Whether :func:`bernoulli_noise` reproduces ``bernoulli_`` on this build (checked once, on
    private generators, for two probabilities and a size that spans several chunks)."""
    for keep_prob in (0.5, 0.3):
        ref = torch.empty(2 * CHUNK + 7, dtype=torch.float64).bernoulli_(
            keep_prob, generator=torch.Generator().manual_seed(12345)).div_(keep_prob)
        ours = bernoulli_noise(ref, keep_prob, torch.Generator().manual_seed(12345))
        if not torch.equal(ref, ours):
            return False
    return True


class SameMaskDropout(nn.Dropout):
    """``nn.Dropout`` with the same masks from the same seed, drawn faster on the CPU
    (:func:`bernoulli_noise`). No parameters, no state: a drop-in replacement."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (not self.training or not 0.0 < self.p < 1.0 or x.device.type != "cpu"
                or not same_stream_as_bernoulli()):
            return super().forward(x)
        noise = bernoulli_noise(x, 1.0 - self.p)
        return x.mul_(noise) if self.inplace else x * noise
