"""Several protocols on one extractor in one call, and ``skelcl evaluate`` on a checkpoint."""

from __future__ import annotations

import argparse
import json
import pathlib
import time

import numpy as np

from ..data.build import build_data
from ..rundir import load_checkpoint, resolve_checkpoint
from .features import extract_features, linear_probe
from .knn import knn_accuracy
from .protocols import LINEAR_PROTOCOLS, SELECTIONS, finetune, linear_evaluation, semi_supervised
from .report import result_row, results_table

PROTOCOL_NAMES = ("linear", "linear_ascal", "linear_aimclr", "knn", "probe", "semi1", "semi10",
                  "finetune")


def evaluate_extractor(extractor, train, test, protocols=("linear", "knn"), linear_protocol: str = "aimclr",
                       select: str = "best_test", knn_k=(1, 5, 20), seed: int = 0, epochs: int | None = None,
                       finetune_epochs: int | None = None, device=None, method: str = "", split: str = "",
                       batch_size: int = 256, features=None) -> dict:
    """Run several protocols on one extractor: ``{"rows": [...], "results": {...}, "train_features",
    "test_features"}``. Protocols: linear (= linear_<linear_protocol>), linear_ascal,
    linear_aimclr, knn, probe (sklearn logistic regression), semi1, semi10, finetune.
    ``rows`` feed ``results_table``; ``epochs`` overrides the linear epochs,
    ``finetune_epochs`` those of semi/finetune. ``features=(train_f, test_f)`` reuses features
    extracted earlier with the same extractor (the result's ``train_features``/``test_features``)."""
    unknown = [p for p in protocols if p not in PROTOCOL_NAMES]
    if unknown:
        raise ValueError(f"protocols: unknown {unknown}; expected some of {PROTOCOL_NAMES}")
    dataset = getattr(train, "dataset", "")
    t0 = time.perf_counter()
    if features is None:
        train_f = extract_features(extractor, train, batch_size, device)
        test_f = extract_features(extractor, test, batch_size, device)
    else:
        train_f, test_f = (np.asarray(f) for f in features)
        if len(train_f) != len(train) or len(test_f) != len(test):
            raise ValueError(f"features: {len(train_f)}/{len(test_f)} rows for {len(train)}/{len(test)} samples")
    feat_s = time.perf_counter() - t0
    rows, results = [], {}

    def row(protocol, top1, top5=None, sel="-", wall=0.0, settings=""):
        rows.append(result_row(method, dataset, split, protocol, top1, top5, sel, seed, wall, settings))

    for p in protocols:
        t = time.perf_counter()
        if p.startswith("linear"):
            name = linear_protocol if p == "linear" else p.split("_", 1)[1]
            r = linear_evaluation(train_f, train.y, test_f, test.y, protocol=name, select=select,
                                  seed=seed, epochs=epochs)
            row(f"linear ({name})", r["top1"], r["top5"], select, time.perf_counter() - t + feat_s,
                r["settings"])
        elif p == "knn":
            r = knn_accuracy(train_f, train.y, test_f, test.y, k=knn_k)
            for kk, acc in r.items():
                row(f"kNN k={kk}", acc, None, "none (no training)", time.perf_counter() - t + feat_s,
                    "cosine, L2-normalised")
        elif p == "probe":
            r = linear_probe(train_f, train.y, test_f, test.y)
            row("probe (logistic)", r, None, "none (fixed C=1)", time.perf_counter() - t + feat_s,
                "sklearn LogisticRegression, standardised")
        else:
            fn = finetune if p == "finetune" else semi_supervised
            kw = {} if p == "finetune" else {"fraction": {"semi1": 0.01, "semi10": 0.1}[p]}
            r = fn(extractor, train, test, epochs=finetune_epochs, select=select, seed=seed,
                   device=device, **kw)
            r.pop("model"), r.pop("extractor")
            row(p, r["top1"], r["top5"], select, time.perf_counter() - t, r["settings"])
        results[p] = r
    return {"rows": rows, "results": results, "train_features": train_f, "test_features": test_f}


def cli(argv: list[str]) -> int:
    """``skelcl evaluate --checkpoint RUN_DIR_OR_CKPT [--protocol linear knn ...] [--select val]``."""
    ap = argparse.ArgumentParser(prog="skelcl evaluate", description=cli.__doc__)
    ap.add_argument("--checkpoint", required=True, help="run directory or checkpoint file")
    ap.add_argument("--epoch", type=int, default=None,
                    help="in a run directory, evaluate ckpt_epoch_XXX.pt instead of checkpoint_last.pt")
    ap.add_argument("--protocol", nargs="+", default=["linear", "knn"], choices=PROTOCOL_NAMES)
    ap.add_argument("--select", default="best_test", choices=SELECTIONS,
                    help="best_test: max test top-1 over epochs (official); val: honest selection; "
                         "last: the fixed last epoch (honest, no validation split)")
    ap.add_argument("--linear-protocol", default=None, choices=sorted(LINEAR_PROTOCOLS),
                    help="default: the method's own (ascal for AS-CAL, aimclr otherwise)")
    ap.add_argument("--epochs", type=int, default=None, help="override the linear epochs")
    ap.add_argument("--finetune-epochs", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default=None)
    ap.add_argument("--out", default=None,
                    help="write results JSON here (+ .md table, + .logits.npz of the linear test logits)")
    args = ap.parse_args(argv)

    method, config = load_checkpoint(resolve_checkpoint(args.checkpoint, args.epoch))
    train, test = build_data(config)
    kind = str(config.get("method", type(method).__name__))
    stream = (config.get("model") or {}).get("stream")
    name = str(config.get("name") or (f"{kind} ({stream})" if stream else kind))
    lin = args.linear_protocol or ("ascal" if kind.lower() == "ascal" else "aimclr")
    out = evaluate_extractor(method.feature_extractor(), train, test, protocols=args.protocol,
                             linear_protocol=lin, select=args.select, seed=args.seed,
                             epochs=args.epochs, finetune_epochs=args.finetune_epochs,
                             device=args.device, method=name,
                             split=str((config.get("data") or {}).get("protocol", "")))
    table = results_table(out["rows"])
    print(table)
    if args.out:
        path = pathlib.Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"checkpoint": str(args.checkpoint), "rows": out["rows"]}, indent=2))
        path.with_suffix(".md").write_text(table + "\n")
        for p, r in out["results"].items():
            if p.startswith("linear"):                 # the ensemble reads these
                np.savez(path.with_suffix(f".{p}.logits.npz"), logits=r["logits"], y=test.y,
                         names=np.asarray(test.names))
    return 0
