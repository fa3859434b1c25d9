"""ST-GCN encoder and graph: parameter counts, partition matrices, shapes (METHODS.md §5)."""

import numpy as np
import pytest
import torch

from skelcl_lib.models import STGCN
from skelcl_lib.models.heads import projection_mlp
from skelcl_lib.models.stgcn import official_weights_init, spatial_partitions


def n_params(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


def test_parameter_counts_equal_official():
    enc = STGCN("ntu25", hidden_channels=16, hidden_dim=256)
    assert n_params(enc) == 821_380
    assert n_params(enc, projection_mlp(256, 128)) == 920_068
    assert n_params(enc.data_bn) == 150
    assert sum(p.numel() for p in enc.edge_importance) == 18_750


def test_ntu_partitions_reproduce_the_hop_quirk():
    A = spatial_partitions("ntu25")
    assert A.shape == (3, 25, 25)
    assert [int((a != 0).sum()) for a in A] == [25, 40, 8]
    np.testing.assert_allclose(A.sum(0).sum(0), np.ones(25), atol=1e-6)
    # A[2] ("further"): 21→{2,3,5,9}, 2→1, 3→4, 5→6, 9→10 (1-based source→target)
    further = {(int(j) + 1, int(i) + 1) for j, i in np.argwhere(A[2] != 0)}
    assert further == {(21, 2), (21, 3), (21, 5), (21, 9), (2, 1), (3, 4), (5, 6), (9, 10)}
    # normalisation A·D⁻¹: entry = 1/deg(target); deg(21) = 5 and deg(1) = 4 (self-loops included)
    assert A[0, 20, 20] == pytest.approx(1 / 5)
    assert A[0, 0, 0] == pytest.approx(1 / 4)
    assert A[1, 1, 0] == 0 and A[2, 1, 0] == pytest.approx(1 / 4)


def test_geodesic_option_splits_edges_evenly():
    A = spatial_partitions("ntu25", geodesic=True)
    assert [int((a != 0).sum()) for a in A] == [25, 24, 24]
    np.testing.assert_allclose(A.sum(0).sum(0), np.ones(25), atol=1e-6)


def test_kinect20_graph():
    A = spatial_partitions("kinect20")
    assert A.shape == (3, 20, 20)
    assert int((A[0] != 0).sum()) == 20
    assert int((A[1] != 0).sum()) + int((A[2] != 0).sum()) == 2 * 19
    np.testing.assert_allclose(A.sum(0).sum(0), np.ones(20), atol=1e-6)
    enc = STGCN("kinect20")
    out = enc(torch.randn(2, 3, 20, 20, 1))
    assert out.shape == (2, 256)


def test_shapes_and_pool_consistency():
    torch.manual_seed(0)
    enc = STGCN().eval()
    x = torch.randn(3, 3, 50, 25, 2)
    fmap = enc.forward_map(x)
    assert fmap.shape == (6, 256, 13, 25)
    feat = enc(x)
    assert feat.shape == (3, 256)
    torch.testing.assert_close(feat, fmap.mean(dim=(2, 3)).view(3, 2, 256).mean(1))
    assert enc(torch.randn(2, 3, 37, 25, 2)).shape == (2, 256)   # any T


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="expected"):
        STGCN()(torch.randn(2, 3, 50, 20, 2))


def test_official_weights_init():
    torch.manual_seed(0)
    enc = STGCN()
    enc.apply(official_weights_init)
    w = enc.blocks[9].tcn[2].weight
    assert abs(w.std().item() - 0.02) < 0.002
    assert torch.all(enc.blocks[9].tcn[2].bias == 0)
    assert abs(enc.data_bn.weight.mean().item() - 1.0) < 0.01
    assert all(torch.all(e == 1) for e in enc.edge_importance)


def test_graph_first_forward_equals_the_official_order():
    torch.manual_seed(0)
    enc = STGCN()
    A = enc.A * torch.rand_like(enc.A)                      # any edge importance
    for block in (enc.blocks[0], enc.blocks[4], enc.blocks[9]):
        gcn = block.gcn
        x = torch.randn(2, gcn.conv.in_channels, 7, 25)
        torch.nn.init.normal_(gcn.conv.bias)
        torch.testing.assert_close(gcn(x, A), gcn.forward_reference(x, A), rtol=1e-4, atol=1e-5)
