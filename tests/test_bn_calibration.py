"""benchmarks/stgcn_bn_calibration.py: which BatchNorm layers get data statistics, and nothing else changes."""

import numpy as np
import pytest
import torch
from torch import nn

from datapaths import load_script
from skelcl_lib.models.stgcn import STGCN

calibration = load_script("benchmarks/stgcn_bn_calibration.py")


def _encoder():
    torch.manual_seed(0)
    return STGCN("ntu25", hidden_channels=4, hidden_dim=16)


def _state(encoder):
    return {k: v.clone() for k, v in encoder.state_dict().items()}


@pytest.mark.parametrize("which", calibration.VARIANTS)
def test_only_the_chosen_layers_get_statistics(which):
    enc = _encoder()
    before = _state(enc)
    x = np.random.default_rng(0).normal(size=(6, 3, 12, 25, 2)).astype(np.float32) + 3.0
    n = calibration.calibrate(enc, x, which, batch_size=4)
    after = enc.state_dict()
    bns = {name for name, m in enc.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}
    expected = {"none": set(), "data_bn": {"data_bn"}, "inner": bns - {"data_bn"}, "all": bns}[which]
    assert n == len(expected)
    assert not enc.training
    for key, value in before.items():
        layer, _, field = key.rpartition(".")
        if field in ("running_mean", "running_var") and layer in expected:
            assert not torch.equal(after[key], value), key        # statistics from the clips
        elif field != "num_batches_tracked":
            assert torch.equal(after[key], value), key            # weights and other layers unchanged
    if "data_bn" in expected:                                     # the input BN saw the shifted clips
        assert after["data_bn.running_mean"].mean().item() == pytest.approx(3.0, abs=0.3)
