"""What an encoder's features tell apart: the action, or the performer who acted it.

Instance discrimination is solved by any feature that differs between two clips of one action:
on a dataset whose performers differ in height, limb ratios, posture and tempo, those traits
are such a feature, and crop + shear do not remove them. This script reads, for the untrained
encoder and for each saved epoch of a pretraining run, leave-one-out cosine 1-NN accuracies
*within the test split* (its performers never took part in training):

- ``action``: the nearest other clip has the same action label;
- ``performer``: the nearest other clip comes from the same performer (``P`` field of NTU-style
  names);
- ``camera``: the nearest other clip was filmed by the same camera (``C`` field; chance is
  the share of the most common camera at best);
- ``performer, other action``: the nearest clip *of another action* comes from the same
  performer (how strongly the features group a performer's clips across actions); chance is
  about 1 / number of test performers.

If pretraining raises the performer columns while the action column falls, the instance task
is being solved through who performs, not what is performed.

    python3 -m skelcl_lib pretrain --config skeletonclr_cpu --set train.lr=0.025 --set train.epochs=3 \
        --set model.dropout=0.5 --set train.save_every=1 --run-dir runs/sclr_cpu_base   # the run the table read
    python3 benchmarks/stgcn_shortcut.py --run runs/sclr_cpu_base --epochs 1 2 3 --out docs/results/stgcn_shortcut.md
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re

import numpy as np
import torch

from skelcl_lib.data.build import build_data, data_info
from skelcl_lib.env import machine_summary
from skelcl_lib.evaluate.features import extract_features
from skelcl_lib.rundir import read_config, run_epochs

def name_field(names, letter: str) -> np.ndarray:
    """(N,) int: one field of NTU-style clip names, e.g. ``P`` (performer) or ``C`` (camera):
    ``S001C002P003R001A004`` -> 3 for ``P``."""
    pattern = re.compile(letter + r"(\d{3})")
    out = []
    for i, name in enumerate(names):
        m = pattern.search(str(name))
        if m is None:
            raise ValueError(f"clip {i}: name {name!r} has no field {letter}NNN (NTU-style names expected)")
        out.append(int(m.group(1)))
    return np.array(out)


def performer_ids(names) -> np.ndarray:
    """(N,) int: the performer of each NTU-style clip name (``S001C002P003R001A004`` -> 3)."""
    return name_field(names, "P")


def identity_scores(features: np.ndarray, action: np.ndarray, performer: np.ndarray,
                    camera: np.ndarray | None = None) -> dict:
    """Leave-one-out cosine 1-NN accuracies (see the module docstring); with ``camera`` also
    the fraction whose nearest clip was filmed by the same camera."""
    f = torch.nn.functional.normalize(torch.from_numpy(np.asarray(features, dtype=np.float32)), dim=1)
    sim = f @ f.T
    sim.fill_diagonal_(-np.inf)
    action_t, performer_t = torch.from_numpy(action), torch.from_numpy(performer)
    nn1 = sim.argmax(1)
    other = sim.masked_fill(action_t[:, None] == action_t[None, :], -np.inf).argmax(1)
    return {"action": float((action_t[nn1] == action_t).float().mean()),
            "performer": float((performer_t[nn1] == performer_t).float().mean()),
            "performer_other_action": float((performer_t[other] == performer_t).float().mean()),
            **({} if camera is None else
               {"camera": float((torch.from_numpy(camera)[nn1] == torch.from_numpy(camera)).float().mean())})}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--run", type=pathlib.Path, required=True, help="a pretraining run directory")
    ap.add_argument("--epochs", type=int, nargs="+", required=True, help="saved epochs (ckpt_epoch_XXX.pt)")
    ap.add_argument("--out", type=pathlib.Path, help="write a Markdown table here (and .json beside it)")
    args = ap.parse_args(argv)

    config = read_config(args.run)
    if config is None:
        raise SystemExit(f"--run {args.run}: no config.yaml; expected a pretraining run directory")
    train, test = build_data(config)
    action, performer = np.asarray(test.y), performer_ids(test.names)
    camera = name_field(test.names, "C")
    rows = []
    for epoch, method in run_epochs(args.run, config, data_info(train), args.epochs):
        f = extract_features(method.feature_extractor().eval(), test)
        rows.append({"epoch": epoch, **identity_scores(f, action, performer, camera)})
        print(json.dumps(rows[-1]), flush=True)
    chance = 1.0 / len(np.unique(performer))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"# Action or performer: what the features of `{config.get('name', args.run.name)}` (lr {config['train']['lr']}, dropout {config['model'].get('dropout', 0.5)}) tell apart", "",
                 f"Run on {machine_summary()}. Test split: {len(test)} clips, "
                 f"{len(np.unique(action))} actions, {len(np.unique(performer))} performers "
                 f"(chance for the performer columns ≈ {100 * chance:.1f} %). Leave-one-out cosine "
                 "1-NN within the test split; epoch 0 = the untrained encoder.", "",
                 "| epoch | action 1-NN | performer 1-NN | performer 1-NN among other actions | camera 1-NN |",
                 "|---:|---:|---:|---:|---:|"]
        for r in rows:
            lines.append(f"| {r['epoch']} | {100 * r['action']:.1f} | {100 * r['performer']:.1f} | "
                         f"{100 * r['performer_other_action']:.1f} | {100 * r['camera']:.1f} |")
        args.out.write_text("\n".join(lines) + "\n")
        args.out.with_suffix(".json").write_text(json.dumps(
            {"run": args.run.name, "config": config.get("name"), "epochs": args.epochs, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
