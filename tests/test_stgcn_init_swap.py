"""benchmarks/stgcn_init_swap.py: the donor's tensors land where named (and in the key encoder
when it starts as a copy), nothing else changes, the run's random stream is untouched."""

import json

import pytest
import torch

from datapaths import load_script
from skelcl_lib.config import load_config
from skelcl_lib.data.build import build_data, build_pretrain_set, data_info
from skelcl_lib.methods import build_method

swap = load_script("benchmarks/stgcn_init_swap.py")
PART = "encoder_q.backbone.blocks.0.gcn."


def _built(seed, key_init_copy):
    config = load_config("skeletonclr_tiny", [f"model.key_init_copy={str(key_init_copy).lower()}"])
    train, _ = build_data(config)
    info = data_info(build_pretrain_set(config, train))
    torch.manual_seed(seed)
    return config, info, build_method(config, info)


@pytest.mark.parametrize("key_init_copy", [False, True])
def test_donor_parts_copy_only_the_named_tensors(key_init_copy):
    config, info, method = _built(1, key_init_copy)
    own = {k: v.clone() for k, v in method.state_dict().items()}
    _, _, donor = _built(0, key_init_copy)
    donor = donor.state_dict()
    torch.manual_seed(5)
    expected_next = torch.rand(3)
    torch.manual_seed(5)
    taken = swap.donor_parts(method, config, info, 0, [PART])
    assert torch.equal(torch.rand(3), expected_next)               # the run's stream is untouched
    key_part = PART.replace("encoder_q.", "encoder_k.")
    assert any(k.startswith(PART) for k in taken)
    assert any(k.startswith(key_part) for k in taken) == key_init_copy
    state = method.state_dict()
    for k, v in state.items():
        if k in taken:
            assert torch.equal(v, donor[k]), k
            if k.endswith("weight"):                                 # biases start at 0 in both
                assert not torch.equal(v, own[k]), k
        else:
            assert torch.equal(v, own[k]), k
    with pytest.raises(ValueError, match="no state-dict key starts with"):
        swap.donor_parts(method, config, info, 0, ["encoder_q.nothing."])


def test_balanced_first_layer_is_orthogonal_per_partition_and_copied_to_the_key_encoder():
    _, _, method = _built(1, True)
    swap.balanced_first_layer(method, 1001)
    w = method.encoder_q.backbone.blocks[0].gcn.conv.weight[:, :, 0, 0]
    k = len(method.encoder_q.backbone.A)
    c_out = w.shape[0] // k
    for j in range(k):
        block = w[j * c_out:(j + 1) * c_out]
        gram = block.T @ block / (0.02 ** 2 * c_out)
        torch.testing.assert_close(gram, torch.eye(w.shape[1]), atol=1e-5, rtol=0)
    assert torch.equal(method.encoder_k.backbone.blocks[0].gcn.conv.weight, method.encoder_q.backbone.blocks[0].gcn.conv.weight)


def test_main_runs_and_writes_the_probe(tmp_path):
    run = tmp_path / "run"
    assert swap.main(["--config", "skeletonclr_tiny", "--run-seed", "1", "--donor-seed", "0", "--parts", PART,
                      "--run-dir", str(run), "--set", "train.epochs=1", "--set", "probe.every=1"]) == 0
    probe = json.loads((run / "probe.json").read_text())
    assert 0.0 <= probe["linear"] <= 1.0
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and "probe_knn1" in rows[0]


def test_pretrain_trains_from_what_prepare_left(tmp_path):
    """``pretrain(prepare=...)`` changes the built method before the first step (the swap's hook)."""
    from skelcl_lib.pretrain import pretrain
    from skelcl_lib.rundir import read_checkpoint

    calls = []

    def prepare(method, config, info):
        calls.append(config["seed"])
        with torch.no_grad():
            method.encoder_q.head[-1].bias.fill_(5.0)

    config = load_config("skeletonclr_tiny", ["train.epochs=1", "train.save_every=1", "probe.enabled=false"])
    run = pretrain(config, tmp_path / "run", prepare=prepare)
    assert calls == [config["seed"]]
    method, _ = read_checkpoint(run / "ckpt_epoch_001.pt")
    bias = method.encoder_q.head[-1].bias
    assert (bias - 5.0).abs().max() < 1.0 and (bias != 5.0).any()     # started at 5, then trained


@pytest.mark.parametrize("which", ["all", "first"])
@pytest.mark.parametrize("key_init_copy", [False, True])
def test_rescale_init_keeps_the_training_mode_function_and_reaches_he_scale(which, key_init_copy):
    """Every conv is followed by BatchNorm: at He's scale the train-mode features are the same
    (exactly so with BatchNorm's ε → 0; float64)."""
    _, _, method = _built(1, key_init_copy)
    method = method.double()
    for bn in method.modules():
        if isinstance(bn, torch.nn.modules.batchnorm._BatchNorm):
            bn.eps = 1e-30
    before_state = {k: v.clone() for k, v in method.state_dict().items()}
    x = torch.randn(4, 3, 20, method.encoder_q.backbone.layout.num_joints, 2, dtype=torch.float64)

    def features(m):
        torch.manual_seed(7)                                         # the same dropout masks
        return m.encoder_q.backbone.train()(x).detach()

    before = features(method)
    names = swap.rescale_init(method, which, copy_to_key=key_init_copy)
    assert names == ["blocks.0.gcn.conv"] if which == "first" else len(names) > 10
    torch.testing.assert_close(features(method), before, rtol=1e-9, atol=1e-9)
    convs = dict(method.encoder_q.backbone.named_modules())
    for name in names:
        w = convs[name].weight
        ratio = w / before_state[f"encoder_q.backbone.{name}.weight"]
        torch.testing.assert_close(ratio, torch.full_like(ratio, (2.0 / w[0].numel()) ** 0.5 / 0.02))
        key_w = dict(method.encoder_k.backbone.named_modules())[name].weight
        if key_init_copy:
            assert torch.equal(key_w, w)
        else:
            assert not torch.equal(key_w, w)
    with pytest.raises(ValueError, match="--rescale-init"):
        swap.rescale_init(method, "middle")
