"""Batched torch augmentations vs a plain per-sample numpy version of the same AimCLR pipeline.

The pipeline is one AimCLR training item: the extreme view and two normal views of a sample
(``Feeder_triple``: crop + shear, and crop + shear + flip/rotate/noise/blur/axis mask). The
reference does it the way the official loader does, one sample at a time in numpy (float64);
``skelcl_lib.augment`` does the whole batch at once in torch on the chosen device.

    nice -n 10 python benchmarks/bench_augment.py                  # batch 128, (3, 50, 25, 2)
    python benchmarks/bench_augment.py --reps 7 --threads 2 --device cpu cuda --clock wall

Prints a markdown table: samples per second (median over repetitions) and the speed-up.
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import time

import numpy as np
import torch

from skelcl_lib import augment as A
from skelcl_lib.skeleton import NTU25

# --------------------------------------------------------------------------- numpy reference
# One function per official op (docs/methods.md §3.2), one sample x: (C, T, V, M) at a time.


def np_temporal_crop(x, rng, ratio=6):
    T = x.shape[1]
    pad = T // ratio
    start = rng.integers(0, 2 * pad + 1)
    padded = np.pad(x, ((0, 0), (pad, pad), (0, 0), (0, 0)), mode="symmetric")
    return padded[:, start:start + T]


def np_linear(x, R):
    """p' = R p for every joint: (C, T, V, M) -> (C, T, V, M)."""
    return np.tensordot(R, x, axes=([1], [0]))


def np_shear(x, rng, r=0.5):
    S = np.eye(3) + rng.uniform(-r, r, (3, 3)) * (1 - np.eye(3))
    return np_linear(x, S)


def np_spatial_flip(x, rng, p=0.5):
    return x[:, :, list(NTU25.flip_permutation)] if rng.random() < p else x


def np_axis_rotation(axis, a):
    c, s = math.cos(a), math.sin(a)
    if axis == 0:
        return np.array([[1, 0, 0], [0, c, s], [0, -s, c]])
    if axis == 1:
        return np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]])
    return np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])


def np_rotate(x, rng):
    main = rng.integers(0, 3)
    for axis in range(3):
        deg = rng.uniform(0, 30) if axis == main else rng.uniform(0, 1)
        x = np_linear(x, np_axis_rotation(axis, math.radians(deg)))
    return x


def np_noise(x, rng, sigma=0.01, p=0.5):
    return x + rng.normal(0, sigma, x.shape) if rng.random() < p else x


def np_blur(x, rng, kernel=15, p=0.5):
    sigma = rng.uniform(0.1, 2.0)
    if rng.random() >= p:
        return x
    r = kernel // 2
    w = np.exp(-np.arange(-r, r + 1) ** 2 / (2 * sigma ** 2))     # unnormalised, as official
    T = x.shape[1]
    xp = np.pad(x, ((0, 0), (r, r), (0, 0), (0, 0)))
    return sum(w[k] * xp[:, k:k + T] for k in range(kernel))


def np_axis_mask(x, rng, p=0.5):
    if rng.random() < p:
        x = x.copy()
        x[rng.integers(0, 3)] = 0
    return x


def np_normal(x, rng):
    return np_shear(np_temporal_crop(x, rng), rng)


def np_extreme(x, rng):
    x = np_normal(x, rng)
    for op in (np_spatial_flip, np_rotate, np_noise, np_blur, np_axis_mask):
        x = op(x, rng)
    return x


def numpy_triple(batch: np.ndarray, rng) -> list[np.ndarray]:
    """Per sample, as a DataLoader would: (extreme, normal, normal), then stacked."""
    views = [[], [], []]
    for x in batch:
        x = np.array(x)
        views[0].append(np_extreme(x, rng))
        views[1].append(np_normal(x, rng))
        views[2].append(np_normal(x, rng))
    return [np.stack(v) for v in views]


def torch_triple(x: torch.Tensor, g, normal, extreme) -> list[torch.Tensor]:
    return [extreme(x, generator=g), normal(x, generator=g), normal(x, generator=g)]


# --------------------------------------------------------------------------- timing

def user_time() -> float:
    """CPU seconds of this process in user mode: the work itself, without the kernel's share
    (page faults of freshly allocated batch-sized tensors, whose cost swings with the state of
    the allocator and with memory pressure from other processes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_utime


CLOCKS = {"cpu": time.process_time, "user": user_time, "wall": time.perf_counter}


def seconds_per_call(fn, min_seconds: float, sync=lambda: None, clock=time.process_time) -> float:
    """Run fn repeatedly for at least min_seconds of ``clock``; seconds per call.

    ``time.process_time`` (the default) counts the CPU time of this process, all threads: on a
    shared machine it measures the work done, not how much of the CPU the process was given.
    """
    calls, t0 = 0, clock()
    while True:
        fn()
        calls += 1
        sync()
        dt = clock() - t0
        if dt >= min_seconds:
            return dt / calls


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--shape", type=int, nargs=4, default=[3, 50, 25, 2], metavar=("C", "T", "V", "M"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--min-seconds", type=float, default=0.5, help="per repetition and pipeline")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (numpy is 1 thread)")
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                    help="cpu: CPU time of the process (robust under load); user: its user-mode "
                         "part (without page faults); wall: elapsed time (use it for CUDA, whose "
                         "work the CPU clock does not see)")
    ap.add_argument("--device", nargs="+", default=["cpu", "cuda"],
                    help="devices for the batched version; cuda is skipped when absent")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    data = rng.normal(0, 0.3, (args.batch, *args.shape)).astype(np.float32)
    normal, extreme = A.aimclr_normal(), A.aimclr_extreme()

    pipelines = {("numpy, per sample (reference)", "cpu"): (lambda: numpy_triple(data, rng), lambda: None)}
    for dev in args.device:
        if dev.startswith("cuda") and not torch.cuda.is_available():
            print(f"(skipping {dev}: CUDA is not available)")
            continue
        x = torch.from_numpy(data).to(dev)
        g = torch.Generator(device=dev).manual_seed(0)
        sync = torch.cuda.synchronize if dev.startswith("cuda") else (lambda: None)
        fn = (lambda x=x, g=g: torch_triple(x, g, normal, extreme))
        pipelines[("skelcl_lib.augment, batched", dev)] = (fn, sync)

    for fn, sync in pipelines.values():      # warm-up
        fn()
        sync()
    # Interleaved repetitions: on a shared machine every pipeline sees the same load in a
    # repetition, so the per-repetition ratio is steadier than the raw rates.
    times = {key: [] for key in pipelines}
    for _ in range(args.reps):
        for key, (fn, sync) in pipelines.items():
            times[key].append(seconds_per_call(fn, args.min_seconds, sync, CLOCKS[args.clock]))
    ref = times[("numpy, per sample (reference)", "cpu")]

    print(f"AimCLR triple (1 extreme + 2 normal views), batch {args.batch}, sample shape "
          f"{tuple(args.shape)}, median of {args.reps} interleaved repetitions, torch threads "
          f"{args.threads}, {args.clock} clock, torch {torch.__version__}, numpy {np.__version__}\n")
    print("| pipeline | device | samples/s | speed-up (median of per-repetition ratios) |")
    print("|---|---|---:|---:|")
    for (name, dev), ts in times.items():
        sps = args.batch / statistics.median(ts)
        ratio = statistics.median(r / t for r, t in zip(ref, ts))
        print(f"| {name} | {dev} | {sps:,.0f} | {ratio:.1f}× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
