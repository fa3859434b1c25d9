"""How often a MoCo negative is really a positive: camera twins and the clip's own stale key.

On a multi-camera dataset every performance is filmed by several cameras at once; in a training
split those views are different samples, so a SkeletonCLR / AimCLR queue holds them as negatives.
This script takes an encoder (shipped checkpoint or untrained ST-GCN), draws two normal views
(crop + shear, the SkeletonCLR augmentation) of ``--clips`` training clips, and reports, in the
encoder's feature space (cosine):

- ``twin_beats_positive``: the fraction of clips for which a camera twin's view is closer to the
  query than the clip's own second view (the positive) — a queue holding that twin makes the
  instance task unsolvable for that clip;
- the mean cosine to the positive, to the twins and to other clips.

    python3 benchmarks/stgcn_false_negatives.py --checkpoint skeletonclr_synthetic_xsub
    python3 benchmarks/stgcn_false_negatives.py --untrained skeletonclr_synthetic
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
import torch.nn.functional as F

from skelcl_lib import augment
from skelcl_lib.checkpoints import build_extractor, checkpoint_dir, entry, load_encoder
from skelcl_lib.config import load_config
from skelcl_lib.data.build import build_data, data_info, recording_ids


def twin_statistics(extractor, x: np.ndarray, rec: np.ndarray, seed: int = 0) -> dict:
    """x: (N, 3, T, V, M) raw clips, rec: (N,) recording ids -> the statistics of the docstring."""
    transform = augment.aimclr_normal(0.5, 6)
    g = torch.Generator().manual_seed(seed)
    xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    extractor.eval()
    with torch.no_grad():
        a = F.normalize(extractor(transform(xt, generator=g)), dim=1)
        b = F.normalize(extractor(transform(xt, generator=g)), dim=1)
    sim = (a @ b.t()).numpy()                                   # query i vs view-2 of clip j
    same = rec[:, None] == rec[None, :]
    eye = np.eye(len(x), dtype=bool)
    twin = same & ~eye
    has_twin = twin.any(1)
    pos = np.diag(sim)
    best_twin = np.where(twin, sim, -np.inf).max(1)
    others = ~same
    return {"clips": int(len(x)), "clips_with_twin": int(has_twin.sum()),
            "twin_beats_positive": float((best_twin[has_twin] > pos[has_twin]).mean()),
            "cos_positive": float(pos.mean()), "cos_twin": float(sim[twin].mean()),
            "cos_other": float(sim[others].mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="a shipped checkpoint name (skelcl checkpoints list)")
    src.add_argument("--untrained", metavar="CONFIG", help="a config whose encoder is used untrained")
    ap.add_argument("--clips", type=int, default=300, help="training clips (whole recordings first)")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    if args.checkpoint:
        extractor, meta = load_encoder(checkpoint_dir() / entry(args.checkpoint)["file"])
        config = meta["config"]
    else:
        config = load_config(args.untrained, args.overrides)
    torch.manual_seed(int(config.get("seed", 0)))
    train, _ = build_data(config)
    if args.untrained:
        extractor = build_extractor(config, data_info(train))
    rec = recording_ids(train)
    order = np.argsort(rec, kind="stable")[: args.clips]       # whole recordings, twins together
    stats = twin_statistics(extractor, train.x[order], rec[order])
    print(json.dumps({"encoder": args.checkpoint or f"untrained {args.untrained}", **stats}, indent=2))


if __name__ == "__main__":
    main()
