"""Measure a pretraining recipe (AS-CAL, SkeletonCLR or AimCLR) on one dataset split.

What is measured: the encoder untrained and pretrained, raw coordinates, and what the features
keep of time direction and handedness.

One run = one ``skelcl pretrain`` (same config, same seed), measured twice with the quick probe's
read-outs (standardised logistic regression; cosine kNN-1/20 on the plain features): right after
the model is built (the untrained encoder, same initialisation) and after pretraining. Added per
run:

- **pairs**: for each pair of classes that differ by time direction or by side (e.g. "sit down" /
  "stand up", "wave right hand" / "wave left hand"), the kNN-1 accuracy on the test clips of the
  two classes and the share of them whose nearest training clip is of the *other* class of the
  pair (``swap``);
- **invariance**: how close f(T x) is to f(x) for T = time reversal and T = reflection (x → −x,
  what a shear with a negative determinant does), on the test clips:
  (mean cos(f(x), f(T x)) − mean cos of random pairs) / (1 − mean cos of random pairs);
  1 = the features cannot tell x from T x, 0 = T x looks like any other clip.

``--raw`` measures raw coordinates instead (``evaluate.raw_features``) on the recorded clips and
on the model's input (frame50 + body-size normalisation when the config has them).

Every result is appended as one JSON line to ``--out``.

Usage:
  python benchmarks/ascal_recipe.py --config ascal_cpu [--set KEY=VALUE ...] --tag NAME --out FILE
  python benchmarks/ascal_recipe.py --config ascal_cpu --raw --out FILE
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch

from skelcl_lib.config import load_config
from skelcl_lib.data.build import INPUT_FIELDS, build_data, data_info
from skelcl_lib.data.raw import raw_features
from skelcl_lib.env import seed_everything
from skelcl_lib.evaluate.features import extract_features, linear_probe
from skelcl_lib.evaluate.knn import knn_accuracy, knn_predict
from skelcl_lib.methods import build_method
from skelcl_lib.pretrain import stretched
from skelcl_lib.train import fit

# Classes that differ by time direction or by side, by their names in the datasets' class lists.
PAIRS = (("sit down", "stand up", "time"), ("donning", "doffing", "time"),
         ("pick up with one hand", "drop trash", "time"),
         ("wave right hand", "wave left hand", "side"),
         ("swipe left", "swipe right", "side"))


def _pairs(class_names, train_y, test_y, pred):
    out = {}
    names = list(class_names or [])
    for a, b, kind in PAIRS:
        if a not in names or b not in names:
            continue
        ia, ib = names.index(a), names.index(b)
        sel = np.isin(test_y, (ia, ib))
        other = np.where(test_y[sel] == ia, ib, ia)
        out[f"{a} / {b}"] = {"kind": kind, "knn1": float((pred[sel] == test_y[sel]).mean()),
                             "swap": float((pred[sel] == other).mean()), "n": int(sel.sum())}
    return out


def _invariance(extractor, x, seed: int = 0):
    """{"time": index, "reflect": index} on clips x (N, 3, T, V, M) (see the module docstring)."""
    x = torch.as_tensor(np.asarray(x, dtype=np.float32))
    def feats(z):
        f = extract_features(extractor, z)
        return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)
    f = feats(x)
    perm = np.random.default_rng(seed).permutation(len(f))
    base = float((f * f[perm]).sum(1).mean())
    reflected = x.clone()
    reflected[:, 0] = -reflected[:, 0]
    out = {"random_cos": base}
    for name, z in (("time", x.flip(2)), ("reflect", reflected)):
        c = float((f * feats(z)).sum(1).mean())
        out[name] = (c - base) / max(1e-12, 1 - base)
    return out


def _measure(train, test, f_train, f_test):
    knn = knn_accuracy(f_train, train.y, f_test, test.y, k=(1, 20))
    pred = knn_predict(f_train, train.y, f_test, k=1)[0]
    return {"probe": linear_probe(f_train, train.y, f_test, test.y), "knn1": knn[1], "knn20": knn[20],
            "pairs": _pairs(getattr(test, "class_names", None), np.asarray(train.y), np.asarray(test.y), pred)}


def run_model(cfg, tag):
    seed_everything(int(cfg["seed"]))
    train, test = build_data(cfg)
    cfg = stretched(cfg, len(train))          # train.min_steps for the set it trains on (the training split)
    info = data_info(train)
    method = build_method(cfg, info)
    rows = {}
    def measure(stage):
        ext = method.feature_extractor().eval()
        r = _measure(train, test, extract_features(ext, train), extract_features(ext, test))
        r["invariance"] = _invariance(ext, test.x)
        rows[stage] = r
    measure("untrained")
    t0 = time.time()
    fit(method, train, cfg, None, info=info)
    wall = time.time() - t0
    measure("trained")
    return {"tag": tag, "kind": "model", "wall_s": round(wall, 1), "threads": torch.get_num_threads(),
            "epochs": cfg["train"]["epochs"],
            "num_train": len(train), "num_test": len(test), **rows}


def run_raw(cfg, tag):
    rows = {}
    recorded = load_config(cfg["_name"], cfg["_overrides"] + [f"data.{k}=null" for k in INPUT_FIELDS])
    for stage, c in (("recorded", recorded), ("model_input", cfg)):
        train, test = build_data(c)
        rows[stage] = _measure(train, test, raw_features(train), raw_features(test))
    return {"tag": tag, "kind": "raw", "num_train": len(train), "num_test": len(test), **rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--tag", default="")
    ap.add_argument("--raw", action="store_true", help="raw coordinates instead of a model")
    ap.add_argument("--out", required=True, help="JSON-lines file to append to")
    args = ap.parse_args(argv)
    cfg = load_config(args.config, args.overrides)
    cfg["train"]["progress"] = False
    cfg["train"]["save_every"] = 0
    head = {"config": args.config, "set": args.overrides, "seed": cfg["seed"],
            "protocol": cfg["data"].get("protocol"), "source": cfg["data"].get("source")}
    if args.raw:
        cfg["_name"], cfg["_overrides"] = args.config, list(args.overrides)
        row = run_raw(cfg, args.tag)
    else:
        row = run_model(cfg, args.tag)
    row = {**head, **row}
    with open(args.out, "a") as fh:
        fh.write(json.dumps(row) + "\n")
    show = {k: row[k] for k in ("tag", "set") if k in row}
    for stage in ("untrained", "trained", "recorded", "model_input"):
        if stage in row:
            r = row[stage]
            show[stage] = {k: round(r[k] * 100, 1) for k in ("probe", "knn1", "knn20")}
    print(json.dumps(show), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
