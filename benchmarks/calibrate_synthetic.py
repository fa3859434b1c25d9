"""How hard is the embedded dataset? Two reference numbers per protocol (xsub, xview).

1. Raw probe: each sequence's valid frames [0, length) are linearly resampled to 16 frames,
   the raw camera-space coordinates (3 x 16 x 25 x 2 = 2400 values, no centring) are flattened,
   standardised (StandardScaler fitted on the training side) and classified by scikit-learn
   LogisticRegression(C=1.0, max_iter=2000).
   Also the project's own baseline ``skelcl_lib.evaluate.features.raw_probe`` (centred on the spine per
   frame, 20 frames, logistic regression), reported next to it.
2. Supervised: a small temporal CNN trained from scratch on centred coordinates (valid frames
   resampled to 32, minus body 1's spine_mid in the first frame; Conv1d over time with the
   150 = 3 x 25 x 2 coordinates as channels), Adam, a few epochs on the CPU. No augmentation.

Usage: nice -n 10 python benchmarks/calibrate_synthetic.py [--seed 0] [--size full]
       [--epochs 10] [--out docs/results/synthetic_calibration.md]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np


def resample_valid(x: np.ndarray, lengths: np.ndarray, frames: int) -> np.ndarray:
    """x: (N, C, T, V, M) -> (N, C, frames, V, M), the valid frames of each sequence linearly resampled."""
    out = np.empty(x.shape[:2] + (frames,) + x.shape[3:], dtype=np.float32)
    for i, L in enumerate(lengths):
        pos = np.linspace(0, L - 1, frames)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, L - 1)
        w = (pos - lo)[None, :, None, None]
        out[i] = (1 - w) * x[i][:, lo] + w * x[i][:, hi]
    return out


def raw_probe(data, protocol: str) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    f = resample_valid(data.x, data.lengths, 16).reshape(len(data), -1)
    tr = data.splits[protocol]
    scaler = StandardScaler().fit(f[tr])
    clf = LogisticRegression(C=1.0, max_iter=2000).fit(scaler.transform(f[tr]), data.y[tr])
    return float((clf.predict(scaler.transform(f[~tr])) == data.y[~tr]).mean())


def centred(data, frames: int = 32) -> np.ndarray:
    """(N, 150, frames): valid frames resampled, minus body 1's spine_mid at the first frame."""
    x = resample_valid(data.x, data.lengths, frames)
    present = np.abs(x).sum(axis=(1, 2, 3), keepdims=True) > 0               # (N, 1, 1, 1, M)
    x = (x - x[:, :, :1, 1:2, :1]) * present
    return x.transpose(0, 1, 3, 4, 2).reshape(len(x), -1, frames)


def supervised(data, protocol: str, epochs: int, seed: int) -> float:
    import torch
    from torch import nn

    torch.manual_seed(seed)
    f = torch.from_numpy(centred(data, 32))
    y = torch.from_numpy(data.y)
    tr = torch.from_numpy(data.splits[protocol])
    xtr, ytr, xte, yte = f[tr], y[tr], f[~tr], y[~tr]
    w = 64
    model = nn.Sequential(
        nn.Conv1d(f.shape[1], w, 5, padding=2), nn.BatchNorm1d(w), nn.ReLU(),
        nn.Conv1d(w, w, 5, padding=2, stride=2), nn.BatchNorm1d(w), nn.ReLU(),
        nn.Conv1d(w, w, 5, padding=2, stride=2), nn.BatchNorm1d(w), nn.ReLU(),
        nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(w, data.num_classes))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(xtr), generator=g).split(64):
            loss = nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(b).argmax(1) for b in xte.split(256)])
    return float((pred == yte).float().mean())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", default="full")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="write the markdown table here")
    args = ap.parse_args(argv)
    import torch

    from skelcl_lib.data.synthetic import make_synthetic

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    data = make_synthetic(args.seed, size=args.size, cache=False)
    t_gen = time.perf_counter() - t0
    print(data.summary(), f"\n  generated in {t_gen:.1f} s", flush=True)
    rows = []
    for protocol in ("xsub", "xview"):
        t1 = time.perf_counter()
        raw = raw_probe(data, protocol)
        from skelcl_lib.evaluate.features import raw_probe as project_raw_probe
        tr = data.splits[protocol]
        proj = project_raw_probe(data.subset(tr), data.subset(~tr))
        t2 = time.perf_counter()
        sup = supervised(data, protocol, args.epochs, args.seed)
        t3 = time.perf_counter()
        rows.append((protocol, raw, proj, sup, t2 - t1, t3 - t2))
        print(f"{protocol}: raw probe {raw:.3f}, evaluate.features.raw_probe {proj:.3f} ({t2 - t1:.0f} s), "
              f"supervised CNN {sup:.3f} "
              f"({t3 - t2:.0f} s)", flush=True)
    total = time.perf_counter() - t0
    if args.out:
        cmd = "nice -n 10 python benchmarks/calibrate_synthetic.py " + " ".join(sys.argv[1:])
        write_report(pathlib.Path(args.out), cmd, args, data, t_gen, rows, total)
    return 0


def write_report(path, cmd, args, data, t_gen, rows, total) -> None:
    table = "\n".join(f"| {p} | {int(data.splits[p].sum())} / {int((~data.splits[p]).sum())} | "
                      f"{raw * 100:.1f} | {proj * 100:.1f} | {sup * 100:.1f} | {tr:.0f} s / {ts:.0f} s |"
                      for p, raw, proj, sup, tr, ts in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""# Calibration of the embedded synthetic dataset

Command (2-core shared CPU, {args.threads} torch threads):

    {cmd}

Dataset: `make_synthetic(seed={args.seed}, size="{args.size}")`, {len(data)} sequences,
x {tuple(data.x.shape)} float32 ({data.x.nbytes / 2**20:.0f} MiB), {data.num_classes} classes,
{len(np.unique(data.subject))} subjects, 3 cameras. Generation took {t_gen:.1f} s (no cache).
Total wall time of the run: {total:.0f} s.

| protocol | train / test | raw probe top-1 (%) | evaluate.features.raw_probe top-1 (%) | supervised CNN top-1 (%) | time raw (both) / CNN |
|---|---|---|---|---|---|
{table}

- **Raw probe**: valid frames linearly resampled to 16, raw camera coordinates (no centring)
  flattened to 3 x 16 x 25 x 2 = 2400 values, StandardScaler, LogisticRegression(C=1,
  max_iter=2000), fitted on the training side, accuracy on the test side.
- **evaluate.features.raw_probe**: `skelcl_lib.evaluate.features.raw_probe(train, test)` with its defaults (body
  1's spine subtracted at every frame, valid frames resampled to 20, logistic regression).
- **Supervised CNN**: valid frames resampled to 32, minus body 1's spine_mid at the first frame;
  3 Conv1d layers (64 channels, kernel 5, BatchNorm, ReLU, two with stride 2), global average
  pooling, dropout 0.2, linear; Adam lr 1e-3, weight decay 1e-4, cosine schedule,
  {args.epochs} epochs, batch 64, no augmentation, seed {args.seed}.

The gap on xview is the point: raw coordinates do not transfer across cameras, learned features
on centred sequences largely do, and neither is at 100 %, so methods have room to differ.
""")
    print(f"wrote {path}")


if __name__ == "__main__":
    raise SystemExit(main())
