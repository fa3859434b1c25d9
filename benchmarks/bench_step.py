"""Seconds per pretraining step and samples per second for AimCLR, SkeletonCLR and AS-CAL.

One step = the batch already on the device → augment on the device → encoder passes (AimCLR:
normal query, extreme query with EADM, key) → loss → backward → SGD step → queue update, exactly
what ``train.py`` runs per iteration. Input shape (N, 3, 50, 25, 2) (frame50 NTU-25).

    python benchmarks/bench_step.py                              # CPU (and CUDA when present)
    python benchmarks/bench_step.py --device cuda --batch 64 128 --steps 20 --amp
    python benchmarks/bench_step.py --methods aimclr --batch 64 --steps 3 --markdown

Not a test: timings depend on the machine; record the table in docs/results/step_benchmark.md.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch


def build(method: str, batch: int, queue: int):
    from skelcl_lib.methods import ASCAL, AimCLR, SkeletonCLR
    if method == "aimclr":
        return AimCLR.build(queue_size=queue)
    if method == "skeletonclr":
        return SkeletonCLR.build(queue_size=queue)
    if method == "ascal":
        return ASCAL.build(input_size=3 * 25 * 2, K=queue, selected_frames=50)
    raise ValueError(f"bench_step: unknown method {method!r}; expected aimclr, skeletonclr, ascal")


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(method: str, batch: int, device: torch.device, steps: int, warmup: int,
               queue: int, amp: bool) -> float:
    """Median seconds per step of ``method`` at ``batch`` on ``device``."""
    torch.manual_seed(0)
    m = build(method, batch, queue).to(device).train()
    m.on_epoch_start(2)                                   # past AS-CAL's forward-only warm-up epoch
    opt = torch.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.01,
                          momentum=0.9, weight_decay=1e-4)
    x = torch.randn(batch, 3, 50, 25, 2, device=device) * 0.3
    y = torch.zeros(batch, dtype=torch.long, device=device)
    times = []
    for i in range(warmup + steps):
        sync(device)
        t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss, _ = m.training_step((x, y))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        m.after_optimizer_step()
        sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", nargs="+", default=["aimclr", "skeletonclr", "ascal"])
    p.add_argument("--batch", nargs="+", type=int, default=[64, 128])
    p.add_argument("--device", nargs="+", default=None,
                   help="devices to time (default: cpu, plus cuda when available)")
    p.add_argument("--steps", type=int, default=3, help="timed steps (median reported)")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--queue", type=int, default=32768, help="queue size (AS-CAL uses it too)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--amp", action="store_true", help="bfloat16 autocast")
    p.add_argument("--cudnn-benchmark", action="store_true")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    devices = args.device or (["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} CPU threads, amp={args.amp}, queue={args.queue}")
    if torch.cuda.is_available():
        print(f"GPU: {torch.cuda.get_device_name()}")
    print("| method | device | batch | s/step | samples/s |")
    print("|---|---|---|---|---|")
    for dev in devices:
        device = torch.device(dev)
        for method in args.methods:
            for b in args.batch:
                q = args.queue - args.queue % b if method != "ascal" else args.queue   # K % B == 0
                s = time_steps(method, b, device, args.steps, args.warmup, q, args.amp)
                print(f"| {method} | {dev} | {b} | {s:.3f} | {b / s:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
