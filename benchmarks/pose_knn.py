"""What can a nearest neighbour read on the embedded dataset? kNN and probe of hand-made pose
statistics, raw coordinates and AS-CAL CAEs, and how much a test clip's nearest training clip
shares its performer's height (the nuisance that the paper's AS-CAL recipe keys on).

Rows per split:
  - raw coordinates (``evaluate.features.raw_features``) of the recorded clips: the README baseline;
  - raw coordinates of the model's input (frame50 + body-size normalisation, ``ascal_synthetic``);
  - ``evaluate.features.pose_statistics`` of the model's input: mean pose; mean pose + spread;
  - the shipped ``ascal_synthetic_<split>`` checkpoint;
  - every ``--runs`` directory (a ``skelcl pretrain`` run on this split), on its own config's input.

"height corr" is the Pearson correlation between the height of the test clip's performer and
that of its 1-NN (cosine) training clip's performer; performers differ between train and test on
xsub, so a high value means the neighbours are chosen by body size.

Usage: python benchmarks/pose_knn.py [--splits xsub xview] [--runs RUN_DIR ...]
       [--out docs/results/pose_knn.md]
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np


def _nn_height_corr(train, test, f_train, f_test, seed: int) -> float:
    from skelcl_lib.data.synthetic import subject_traits
    from skelcl_lib.evaluate.knn import nearest_neighbors

    idx = nearest_neighbors(f_train, f_test, 1)[0][:, 0]
    subjects = np.union1d(train.subject, test.subject)
    h = dict(zip(subjects, subject_traits(seed, subjects)["height"]))
    a = np.array([h[s] for s in test.subject])
    b = np.array([h[s] for s in train.subject[idx]])
    return float(np.corrcoef(a, b)[0, 1])


def _row(name, source, train, test, f_train, f_test, seed):
    from skelcl_lib.evaluate.features import linear_probe
    from skelcl_lib.evaluate.knn import knn_accuracy

    knn = knn_accuracy(f_train, train.y, f_test, test.y, k=(1, 20))
    return {"features": name, "input": source, "probe": linear_probe(f_train, train.y, f_test, test.y),
            "knn1": knn[1], "knn20": knn[20], "height": _nn_height_corr(train, test, f_train, f_test, seed),
            "dim": f_train.shape[1]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", nargs="+", default=["xsub", "xview"])
    ap.add_argument("--runs", nargs="*", default=[], help="pretraining run directories to add")
    ap.add_argument("--out", default=None, help="write the markdown table here")
    args = ap.parse_args(argv)

    import torch

    from skelcl_lib.checkpoints import load_pretrained
    from skelcl_lib.config import load_config
    from skelcl_lib.data.build import INPUT_FIELDS, build_data
    from skelcl_lib.env import machine_summary
    from skelcl_lib.evaluate.features import extract_features, pose_statistics, raw_features
    from skelcl_lib.rundir import load_checkpoint

    torch.set_num_threads(2)
    rows = []
    for split in args.splits:
        cfg = load_config("ascal_synthetic", [f"data.protocol={split}"])
        seed = int(cfg["data"].get("seed", 0))
        model_in = build_data(cfg)
        recorded = build_data(load_config("ascal_synthetic", [f"data.protocol={split}"] +
                                              [f"data.{k}=null" for k in INPUT_FIELDS]))
        label = f"frame50 + torso {cfg['data']['normalize_scale']} m"
        out = [_row("raw coordinates (README baseline)", "recorded", *recorded,
                    raw_features(recorded[0]), raw_features(recorded[1]), seed),
               _row("raw coordinates", label, *model_in, raw_features(model_in[0]), raw_features(model_in[1]), seed),
               _row("mean pose", label, *model_in, pose_statistics(model_in[0]), pose_statistics(model_in[1]), seed),
               _row("mean pose + spread", label, *model_in, pose_statistics(model_in[0], True),
                    pose_statistics(model_in[1], True), seed)]
        ext, entry = load_pretrained(f"ascal_synthetic_{split}")
        out.append(_row(f"AS-CAL, shipped ascal_synthetic_{split}", label, *model_in,
                        extract_features(ext, model_in[0]), extract_features(ext, model_in[1]), seed))
        for run in args.runs:
            loaded = load_checkpoint(pathlib.Path(run) / "checkpoint_last.pt")
            method, rcfg = loaded if isinstance(loaded, tuple) else (loaded, loaded.config)
            if rcfg["data"].get("protocol") != split:
                continue
            d = build_data(rcfg)
            e = method.feature_extractor().eval()
            src = f"{rcfg['data'].get('preprocess') or 'recorded'}" + (
                f" + torso {rcfg['data']['normalize_scale']} m" if rcfg["data"].get("normalize_scale") else "")
            out.append(_row(f"AS-CAL run {pathlib.Path(run).name}", src, *d,
                            extract_features(e, d[0]), extract_features(e, d[1]), seed))
        for r in out:
            r["split"] = split
            print(f"{split} {r['features']:40s} {r['input']:26s} probe {100 * r['probe']:5.1f} "
                  f"kNN-1 {100 * r['knn1']:5.1f} kNN-20 {100 * r['knn20']:5.1f} height corr {r['height']:+.2f}",
                  flush=True)
        rows += out

    lines = ["## kNN of pose statistics, raw coordinates and AS-CAL CAEs (embedded dataset)", "",
             f"Command: `python benchmarks/pose_knn.py {' '.join(argv if argv is not None else sys.argv[1:])}`", "",
             f"Run on {machine_summary(torch.device('cpu'))}. Probe: logistic regression on standardised "
             "features; kNN: cosine; "
             "height corr: test performer vs its 1-NN's performer.", "",
             "| split | features | input | dim | probe | kNN-1 | kNN-20 | height corr |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['split']} | {r['features']} | {r['input']} | {r['dim']} | {100 * r['probe']:.1f} | "
                     f"{100 * r['knn1']:.1f} | {100 * r['knn20']:.1f} | {r['height']:+.2f} |")
    text = "\n".join(lines) + "\n"
    if args.out:
        pathlib.Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
