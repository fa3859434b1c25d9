"""ST-GCN encoder and graph: parameter counts, partition matrices, shapes (docs/methods.md §5)."""

import numpy as np
import pytest
import torch

from skelcl_lib.models import STGCN
from skelcl_lib.models.heads import projection_mlp
from skelcl_lib.models import stgcn
from skelcl_lib.models.stgcn import (GraphConv, official_weights_init, spatial_partitions,
                                     spectral_temporal_conv)
from skelcl_lib.models.stgcn_official import official_from_encoder, official_state_dict


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


@pytest.mark.parametrize("chunk", [2, 8])
def test_chunked_graph_conv_equals_the_official_order_with_gradients(chunk, monkeypatch):
    """On the CPU the graph conv runs a few bodies at a time and recomputes its graph product in
    the backward: output and gradients (input, graph, weight, bias) equal the literal official
    order in float64, in one chunk and in several with a partial last one."""
    monkeypatch.setattr(stgcn, "GRAPH_CHUNK", chunk)
    torch.manual_seed(0)
    gcn = GraphConv(5, 7).double()
    torch.nn.init.normal_(gcn.conv.bias)
    A = (STGCN().A * torch.rand(3, 25, 25)).double().requires_grad_()
    x = torch.randn(5, 5, 6, 25, dtype=torch.float64, requires_grad=True)
    out, ref = gcn(x, A), gcn.forward_reference(x, A)
    torch.testing.assert_close(out, ref, rtol=1e-10, atol=1e-12)
    g = torch.randn_like(ref)
    inputs = [x, A, gcn.conv.weight, gcn.conv.bias]
    for a, r in zip(torch.autograd.grad(out, inputs, g), torch.autograd.grad(ref, inputs, g)):
        torch.testing.assert_close(a, r, rtol=1e-10, atol=1e-12)
    (g_w,) = torch.autograd.grad(gcn(x.detach(), A.detach()), gcn.conv.weight, g)   # weight only
    torch.testing.assert_close(g_w, torch.autograd.grad(gcn.forward_reference(x, A), gcn.conv.weight, g)[0])


def _encoder_with_official_twin(temporal_conv):
    torch.manual_seed(0)
    enc = STGCN(temporal_conv=temporal_conv)
    enc.apply(official_weights_init)
    with torch.no_grad():                                   # any edge importance
        for e in enc.edge_importance:
            e.mul_(torch.rand_like(e) + 0.5)
    return enc, official_from_encoder(enc)


@pytest.mark.parametrize("temporal_conv", ["direct", "spectral", "auto"])
@pytest.mark.parametrize("train", [False, True])
def test_encoder_equals_the_official_forward_and_gradients(temporal_conv, train):
    """The same function as the literal official ST-GCN with the same weights: feature map,
    gradient of every parameter, BN running statistics; in train mode the same seed draws the same
    dropout masks. Compared in float64, where rounding cannot hide a difference; in float32 the
    maps agree to rounding (the gradients of a train-mode network amplify float32 rounding through
    ten BatchNorms by ~1e-2 in either implementation, so they are compared in float64 only)."""
    enc, official = _encoder_with_official_twin(temporal_conv)
    enc.train(train)
    official.train(train)
    x = torch.randn(3, 3, 50, 25, 2)
    torch.manual_seed(1)
    ours32 = enc.forward_map(x)
    torch.manual_seed(1)
    ref32 = official.forward_map(x)
    torch.testing.assert_close(ours32, ref32, rtol=1e-4, atol=1e-5 * ref32.abs().max().item())

    enc, official = _encoder_with_official_twin(temporal_conv)
    enc.double().train(train)
    official.double().train(train)
    torch.manual_seed(1)
    ours = enc.forward_map(x.double())
    torch.manual_seed(1)
    ref = official.forward_map(x.double())
    torch.testing.assert_close(ours, ref, rtol=1e-9, atol=1e-12)
    g = torch.randn_like(ref)
    g_ours = torch.autograd.grad(ours, list(enc.parameters()), g)
    g_ref = torch.autograd.grad(ref, list(official.parameters()), g)
    scale = max(r.abs().max().item() for r in g_ref)
    for (name, _), a, b in zip(enc.named_parameters(), g_ours, g_ref):
        torch.testing.assert_close(a, b, rtol=1e-7, atol=1e-10 * scale, msg=name)
    for (name, a), b in zip(enc.named_buffers(), official.buffers()):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12, msg=name)


def test_state_dict_is_the_official_one():
    enc, official = _encoder_with_official_twin("auto")
    assert list(official_state_dict(enc.state_dict())) == list(official.state_dict())
    names = [k for k in enc.state_dict() if k.startswith("blocks.9.")]
    assert names == [f"blocks.9.{k}" for k in (
        "gcn.conv.weight", "gcn.conv.bias",
        "tcn.0.weight", "tcn.0.bias", "tcn.0.running_mean", "tcn.0.running_var",
        "tcn.0.num_batches_tracked", "tcn.2.weight", "tcn.2.bias",
        "tcn.3.weight", "tcn.3.bias", "tcn.3.running_mean", "tcn.3.running_var",
        "tcn.3.num_batches_tracked", "residual.0.weight", "residual.0.bias",
        "residual.1.weight", "residual.1.bias", "residual.1.running_mean",
        "residual.1.running_var", "residual.1.num_batches_tracked")]


@pytest.mark.parametrize("t, kernel, stride, bias", [(13, 9, 1, True), (50, 9, 2, True),
                                                      (25, 9, 2, False), (7, 9, 1, True),
                                                      (20, 5, 3, True), (1, 9, 1, True)])
@pytest.mark.parametrize("chunk", [2, 8])
def test_spectral_temporal_conv_equals_conv2d(t, kernel, stride, bias, chunk):
    """Output and gradients (input, weight, bias) equal the direct conv's in float64, in one
    chunk of bodies and in several with a partial last one."""
    torch.manual_seed(0)
    x = torch.randn(5, 6, t, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 6, kernel, 1, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True) if bias else None
    pad = (kernel - 1) // 2
    ref = torch.nn.functional.conv2d(x, w, b, (stride, 1), (pad, 0))
    out = spectral_temporal_conv(x, w, b, stride, pad, chunk=chunk)
    torch.testing.assert_close(out, ref)
    g = torch.randn_like(ref)
    inputs = [x, w] + ([b] if bias else [])
    grads_ref = torch.autograd.grad(ref, inputs, g)
    for a, r in zip(torch.autograd.grad(out, inputs, g), grads_ref):
        torch.testing.assert_close(a, r)
    (gw,) = torch.autograd.grad(spectral_temporal_conv(x.detach(), w, b, stride, pad, chunk=chunk), w, g)
    torch.testing.assert_close(gw, grads_ref[1])                           # weight only


def test_temporal_conv_choice():
    enc = STGCN()
    x = torch.zeros(1, 256, 13, 25)
    assert [b.uses_spectral(x) for b in enc.blocks] == [False] * 7 + [True] * 3
    assert not any(b.uses_spectral(x) for b in STGCN(temporal_conv="direct").blocks)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not any(b.uses_spectral(x) for b in enc.blocks)
    assert all(b.uses_spectral(x) for b in STGCN(temporal_conv="spectral").blocks)
    with pytest.raises(ValueError, match="temporal_conv"):
        STGCN(temporal_conv="fft")


@pytest.mark.slow
def test_aimclr_step_equals_the_step_with_official_backbones():
    """A whole AimCLR training step (views, three backbone passes, EADM, D3M, backward) gives the
    same loss and gradients with this encoder as with the literal official one (float64)."""
    from skelcl_lib.methods import AimCLR

    def step(official: bool):
        torch.manual_seed(0)
        m = AimCLR.build(queue_size=16).double().train()
        m.on_epoch_start(1)
        if official:
            for enc in (m.encoder_q, m.encoder_k):
                enc.backbone = official_from_encoder(enc.backbone)
                enc.backbone.requires_grad_(enc is m.encoder_q)
        x = torch.randn(4, 3, 50, 25, 2, dtype=torch.float64,
                        generator=torch.Generator().manual_seed(2)) * 0.3
        torch.manual_seed(1)
        loss, _ = m.training_step((x, None))
        params = [p for p in m.encoder_q.parameters()]
        return loss, torch.autograd.grad(loss, params)

    loss, grads = step(official=False)
    loss_ref, grads_ref = step(official=True)
    torch.testing.assert_close(loss, loss_ref, rtol=1e-9, atol=1e-12)
    scale = max(g.abs().max().item() for g in grads_ref)
    for a, b in zip(grads, grads_ref):
        torch.testing.assert_close(a, b, rtol=1e-7, atol=1e-10 * scale)
