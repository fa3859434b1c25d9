"""Check a GPU for the course: every method's training, its augmentations and the evaluation, timed.

For each config (default: the three paper configs of NTU-60 xsub and the three ``*_nucla_gpu``
configs) the check builds the method exactly as ``skelcl pretrain`` does and measures, on one
device, with mixed precision on (float16 autocast and a gradient scaler, what ``train.amp: true``
runs; CUDA only; ``--fp32`` keeps each config's own setting):

- **train**: two epochs of the library's own loop (``skelcl_lib.train.fit``: batches from memory,
  augmentations on the device, encoder passes, loss, backward, optimiser step, momentum update,
  queue) at the config's batch size; the second epoch is reported (AS-CAL's first epoch only fills
  its queue; AimCLR mines nearest neighbours in the second);
- **augment**: each augmentation pipeline the method draws its views with, on the device;
- **features / linear / kNN**: frozen-feature extraction (under autocast when AMP is on), the
  method's official linear evaluation on those features, and cosine kNN.

Inputs are random arrays of the config's shape (the check times the computation; accuracies on
random data mean nothing and are not printed). Prints one markdown table: throughput and, on CUDA,
the peak memory PyTorch allocated.

    python benchmarks/gpu_check.py                   # CUDA when there is a GPU, else the CPU
    python benchmarks/gpu_check.py --quick           # small sizes on the CPU (the tests run this)
    python benchmarks/gpu_check.py --configs aimclr_nucla_gpu --steps 20 --out gpu_check.md

Not a test of speed: record the table with the GPU's name (docs/colab.md says where).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time

import numpy as np
import torch

from skelcl_lib.data.dataset import SkeletonData
from skelcl_lib.env import pick_device
from skelcl_lib.config import load_config
from skelcl_lib.data.build import data_info
from skelcl_lib.evaluate.features import extract_features
from skelcl_lib.evaluate.knn import knn_accuracy
from skelcl_lib.evaluate.protocols import linear_evaluation
from skelcl_lib.methods import build_method
from skelcl_lib.rundir import read_log
from skelcl_lib.skeleton import LAYOUTS
from skelcl_lib.train import fit

DEFAULT_CONFIGS = ("ascal_ntu60_xsub", "skeletonclr_ntu60_xsub_joint", "aimclr_ntu60_xsub_joint",
                   "ascal_nucla_gpu", "skeletonclr_nucla_gpu", "aimclr_nucla_gpu")


def input_shape(config: dict) -> dict:
    """Layout, frames, bodies and classes of the arrays the config's data source delivers."""
    d = config["data"]
    layout, bodies, classes = ("kinect20", 1, 10) if d.get("source") == "nucla" else ("ntu25", 2, 60)
    # ST-GCN methods read frame50 arrays (prepared, or made by preprocess: frame50); AS-CAL's
    # paper configs read the 300-frame st-gcn arrays
    frames = 50 if config["method"] != "ascal" or d.get("preprocess") == "frame50" else 300
    return {"layout": layout, "frames": frames, "bodies": bodies, "classes": classes}


def random_data(config: dict, n: int, seed: int) -> SkeletonData:
    """n random clips of the config's input shape (coordinates ~ N(0, 0.3²) metres), random labels."""
    s = input_shape(config)
    layout = LAYOUTS[s["layout"]]
    rng = np.random.default_rng(seed)
    x = (0.3 * rng.standard_normal((n, 3, s["frames"], layout.num_joints, s["bodies"]))).astype(np.float32)
    y = rng.integers(0, s["classes"], n)
    return SkeletonData(x=x, y=y, layout=layout, class_names=[str(c) for c in range(s["classes"])])


def check_config(name: str, device: torch.device, quick: bool, steps: int, eval_samples: int,
                 amp: bool = True, overrides=()) -> list[dict]:
    """The measured rows of one config (``amp``: turn the config's mixed precision on; CUDA only)."""
    sets = [f"train.device={device}", "train.progress=false", "train.epochs=2", "train.min_steps=0", "seed=0",
            *(() if device.type != "cuda" or not amp else ("train.amp=true",)), *overrides]
    config = load_config(name, sets)
    if quick:                                     # CPU sizes: a small batch and queue, a few steps
        queue_key = "K" if config["method"] == "ascal" else "queue_size"
        config = load_config(name, [*sets, "train.batch_size=8", f"model.{queue_key}=64",
                                    "train.num_workers=0"])
    if config["method"] == "aimclr":
        config["model"]["mining_epoch"] = 1       # epoch 2 mines neighbours: the dearer step
    tc = config["train"]
    amp = bool(tc["amp"]) and device.type == "cuda"
    batch = int(tc["batch_size"])
    train = random_data(config, batch * steps, seed=0)
    tc["drop_last"] = True
    rows = []

    def row(part, per_s, unit, peak=None, seconds=None, size=batch):
        rows.append({"config": name, "method": config["method"], "part": part, "batch": size,
                     "throughput": f"{per_s:,.0f} {unit}" if per_s >= 100 else f"{per_s:.3g} {unit}", "seconds": seconds,
                     "peak_mib": None if peak is None else peak / 2**20})

    # -- training: the library's loop, two epochs; the second one is reported
    torch.manual_seed(0)
    method = build_method(config, data_info(train))
    reset_peak(device)
    with tempfile.TemporaryDirectory() as run_dir:
        fit(method, train, config, run_dir=run_dir)
        last = read_log(run_dir)[-1]
    row("train step", last["samples_per_s"], "clips/s", peak_memory(device), last["seconds"])

    # -- augmentations on the device
    x = torch.from_numpy(train.x[:batch]).to(device)
    for label, pipeline in augmentation_pipelines(method):
        reset_peak(device)
        per_s, seconds = timed(lambda: pipeline(x), batch, device, repeats=3 if quick else 20)
        row(f"augment: {label}", per_s, "clips/s", peak_memory(device), seconds)

    # -- evaluation: features under autocast, the official linear protocol, kNN
    extractor = method.feature_extractor().to(device)
    evaluation = random_data(config, eval_samples, seed=1)
    reset_peak(device)
    t0 = time.perf_counter()
    with torch.autocast(device.type, dtype=getattr(torch, tc["amp_dtype"]), enabled=amp):
        feats = extract_features(extractor, evaluation, batch_size=256, device=device)
    sync(device)
    seconds = time.perf_counter() - t0
    row("features", eval_samples / seconds, "clips/s", peak_memory(device), seconds, min(256, eval_samples))
    half = eval_samples // 2
    f_train, f_test, y_train, y_test = feats[:half], feats[half:], evaluation.y[:half], evaluation.y[half:]
    protocol = "ascal" if config["method"] == "ascal" else "aimclr"
    t0 = time.perf_counter()
    linear_evaluation(f_train, y_train, f_test, y_test, protocol=protocol, epochs=2 if quick else None,
                      device=device, num_classes=len(train.class_names))
    seconds = time.perf_counter() - t0
    row(f"linear ({protocol} protocol)", half / seconds, "train features/s (all epochs)", None, seconds, half)
    t0 = time.perf_counter()
    knn_accuracy(f_train, y_train, f_test, y_test, k=(1, 20))
    seconds = time.perf_counter() - t0
    row("kNN (k = 1, 20)", (eval_samples - half) / seconds, "queries/s", None, seconds, eval_samples - half)
    return rows


def augmentation_pipelines(method) -> list[tuple[str, object]]:
    """(label, callable x -> views) for each view pipeline of a method."""
    found = []
    for attr, label in (("view_q", "AS-CAL view"), ("augment_normal", "normal view"),
                        ("augment_extreme", "extreme view")):
        fn = getattr(method, attr, None)
        if fn is not None:
            found.append((label, fn))
    if not found:
        raise ValueError(f"{type(method).__name__}: no augmentation pipeline (view_q, augment_normal, "
                         f"augment_extreme) to time")
    return found


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def peak_memory(device: torch.device) -> int | None:
    """Peak bytes PyTorch allocated on a CUDA device since the last reset (None elsewhere)."""
    return torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None


def timed(fn, items: int, device: torch.device, repeats: int) -> tuple[float, float]:
    """(items per second, median seconds) of ``fn`` after one warm-up call."""
    with torch.no_grad():
        fn()
        times = []
        for _ in range(repeats):
            sync(device)
            t0 = time.perf_counter()
            fn()
            sync(device)
            times.append(time.perf_counter() - t0)
    median = float(np.median(times))
    return items / median, median


def markdown(rows: list[dict], header: str) -> str:
    note = ("seconds: the timed epoch (train step), the median call (augment), the whole part "
            "(features, linear, kNN); peak memory: CUDA only")
    lines = [header, "", note, "", "| config | part | batch / clips | throughput | seconds | peak memory (MiB) |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        peak = "–" if r["peak_mib"] is None else f"{r['peak_mib']:,.0f}"
        secs = "–" if r["seconds"] is None else f"{r['seconds']:.3f}"
        lines.append(f"| `{r['config']}` | {r['part']} | {r['batch']} | {r['throughput']} | {secs} | {peak} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", nargs="+", default=list(DEFAULT_CONFIGS))
    p.add_argument("--device", default=None, help="cuda, cpu, ... (default: CUDA when present, else CPU)")
    p.add_argument("--quick", action="store_true", help="CPU-sized run: batch 8, queue 64, 2 steps")
    p.add_argument("--steps", type=int, default=None, help="steps per timed epoch (default 10; quick 2)")
    p.add_argument("--eval-samples", type=int, default=None, help="clips for features/linear/kNN "
                   "(default 4096; quick 64)")
    p.add_argument("--fp32", action="store_true", help="keep each config's own train.amp (the paper "
                   "configs train in float32) instead of turning mixed precision on")
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   help="extra config override for every config, e.g. train.amp=false")
    p.add_argument("--out", default=None, help="also write the table to this file")
    args = p.parse_args(argv)
    device = pick_device(args.device or ("cpu" if args.quick else None))
    steps = args.steps or (2 if args.quick else 10)
    eval_samples = args.eval_samples or (64 if args.quick else 4096)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        (platform.processor() or platform.machine())
    sizes = "quick sizes" if args.quick else f"{steps} steps per epoch"
    precision = ("float32 (mixed precision is CUDA only)" if device.type != "cuda" else
                 "each config's own train.amp" if args.fp32 else "mixed precision (float16) on")
    header = (f"device {device} ({name}), torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
              f"{sizes}; {precision}")
    rows = []
    for config in args.configs:
        rows += check_config(config, device, args.quick, steps, eval_samples, not args.fp32, args.overrides)
        print(f"done: {config}", flush=True)
    table = markdown(rows, header)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
