"""Which part of the initialisation decides where a run ends: one pretraining run of seed RUN
(its data order, augmentations and every other initial weight) with chosen tensors of the
initial weights taken from seed DONOR instead.

``--parts`` lists prefixes of the method's state-dict keys (``encoder_q.backbone.blocks.0.gcn.``,
``encoder_q.head.`` ...). A part given for the query encoder is copied into the key encoder too
when the config starts the key encoder as a copy (``model.key_init_copy``), so both encoders start
equal as in an ordinary run. The donor is built with the same config in a forked random stream, so
the run's own stream (the views, the batches) is the one an ordinary run of seed RUN draws.
``--balanced-first-layer`` instead redraws the first graph convolution as one orthogonal
(C_out, C_in) block per partition at the official scale (0.02 · √C_out per column; its own stream).
``--rescale-init all|first`` keeps the seed's initial directions and multiplies the backbone's
conv weights (every conv, or only the first graph convolution) from the official N(0, 0.02) to
He's scale √(2 / fan_in). Every conv is followed by BatchNorm, so the untrained network computes
the same function in training mode (up to BatchNorm's ε); what changes is how far one SGD step
turns each weight (by about η‖g‖ / ‖w‖, with ‖g‖ ∝ 1 / ‖w‖ under BatchNorm): the official scale
gives the first graph convolution (fan-in 3) 1/41 of He's scale, i.e. relative steps about 1700
times larger than at He's scale.

The run is :func:`skelcl_lib.pretrain.pretrain` with the change applied to the built method before
training: with ``probe.every`` the log rows carry the probe / kNN-1 per epoch
(``run_dir/log.jsonl``); the final probe goes to ``run_dir/probe.json``.

Usage:
  python benchmarks/stgcn_init_swap.py --config skeletonclr_cpu --run-seed 1 --donor-seed 0 \\
      --parts encoder_q.backbone.blocks.0.gcn. --run-dir RUN [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import math
import sys

import torch

from skelcl_lib.config import load_config, validate
from skelcl_lib.methods import build_method
from skelcl_lib.pretrain import pretrain

OFFICIAL_STD = 0.02   # the std of every conv weight under the official weights_init


def donor_parts(method, config: dict, info: dict, donor_seed: int, parts) -> list[str]:
    """Copy the tensors whose keys start with one of ``parts`` (query-encoder prefixes also name
    the key encoder's when ``model.key_init_copy``) from the method seed ``donor_seed`` builds;
    the global random stream is left as it was. Returns the keys copied."""
    prefixes = list(parts)
    if config["model"].get("key_init_copy"):
        prefixes += [p.replace("encoder_q.", "encoder_k.", 1) for p in parts if p.startswith("encoder_q.")]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(donor_seed))
        donor = build_method(config, info).state_dict()
    state = method.state_dict()
    taken = [k for k in state if any(k.startswith(p) for p in prefixes)]
    unknown = [p for p in parts if not any(k.startswith(p) for k in state)]
    if unknown:
        raise ValueError(f"--parts: no state-dict key starts with {unknown}")
    for k in taken:
        state[k] = donor[k].clone()
    method.load_state_dict(state)
    return taken


def balanced_first_layer(method, seed: int, copy_to_key: bool = True) -> None:
    """The first block's graph convolution (K·C_out, C_in) as K orthogonal (C_out, C_in) blocks,
    columns of norm 0.02·√C_out (the expected norm under the official N(0, 0.02)); with
    ``copy_to_key`` (``model.key_init_copy``) the key encoder's first graph convolution gets the
    same weights, otherwise it keeps its own."""
    conv = method.encoder_q.backbone.blocks[0].gcn.conv
    k = len(method.encoder_q.backbone.A)
    c_out = conv.weight.shape[0] // k
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(int(seed))
        for j in range(k):
            block = torch.empty(c_out, conv.weight.shape[1])
            torch.nn.init.orthogonal_(block)
            conv.weight[j * c_out:(j + 1) * c_out, :, 0, 0] = block * OFFICIAL_STD * c_out ** 0.5
    if copy_to_key:
        method.encoder_k.backbone.blocks[0].gcn.conv.weight.data.copy_(conv.weight)


RESCALE = ("all", "first")


def rescale_init(method, which: str = "all", copy_to_key: bool = True) -> list[str]:
    """Multiply the query backbone's conv weights (``which``: "all" of them, or "first", block 1's
    graph convolution) by √(2 / fan_in) / 0.02: the official directions at He's scale. With
    ``copy_to_key`` (``model.key_init_copy``) the key encoder's same weights get the same values,
    otherwise they are scaled by the same factors. Returns the names of the scaled weights."""
    if which not in RESCALE:
        raise ValueError(f"--rescale-init: expected one of {RESCALE}, got {which!r}")
    names = []
    q = method.encoder_q.backbone
    k = method.encoder_k.backbone
    key_convs = dict(k.named_modules())
    with torch.no_grad():
        for name, conv in q.named_modules():
            if not isinstance(conv, (torch.nn.Conv1d, torch.nn.Conv2d)):
                continue
            if which == "first" and name != "blocks.0.gcn.conv":
                continue
            factor = math.sqrt(2.0 / conv.weight[0].numel()) / OFFICIAL_STD
            conv.weight.mul_(factor)
            if copy_to_key:
                key_convs[name].weight.copy_(conv.weight)
            else:
                key_convs[name].weight.mul_(factor)
            names.append(name)
    return names


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default="skeletonclr_cpu")
    p.add_argument("--run-seed", type=int, required=True)
    p.add_argument("--donor-seed", type=int, default=None)
    p.add_argument("--parts", default="", help="comma-separated state-dict key prefixes taken from the donor")
    p.add_argument("--balanced-first-layer", action="store_true")
    p.add_argument("--rescale-init", choices=RESCALE, default=None,
                   help="the official directions at He's scale: every conv, or the first graph conv")
    p.add_argument("--run-dir", required=True)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    a = p.parse_args(argv)
    parts = [s for s in a.parts.split(",") if s]
    if parts and a.donor_seed is None:
        p.error("--parts needs --donor-seed")
    config = validate(load_config(a.config, list(a.set) + [f"seed={a.run_seed}"]))
    if config["method"] not in ("skeletonclr", "aimclr"):
        p.error(f"--config: an ST-GCN method (skeletonclr, aimclr), got {config['method']}")

    def prepare(method, config, info):
        if parts:
            taken = donor_parts(method, config, info, a.donor_seed, parts)
            print(f"{len(taken)} tensors from seed {a.donor_seed}", file=sys.stderr)
        if a.balanced_first_layer:
            balanced_first_layer(method, 1000 + a.run_seed, bool(config["model"].get("key_init_copy")))
        if a.rescale_init:
            scaled = rescale_init(method, a.rescale_init, bool(config["model"].get("key_init_copy")))
            print(f"{len(scaled)} conv weights at He's scale", file=sys.stderr)
    pretrain(config, a.run_dir, prepare=prepare)
    return 0


if __name__ == "__main__":
    sys.exit(main())
