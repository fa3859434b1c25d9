"""Seconds per pretraining step and samples per second for AimCLR, SkeletonCLR and AS-CAL.

One step = the batch already on the device → augment on the device → encoder passes (AimCLR:
normal query, extreme query with EADM, key) → loss → backward → SGD step → queue update, exactly
what ``train.py`` runs per iteration. Input shape (N, 3, 50, 25, 2) (frame50 NTU-25).

    python benchmarks/bench_step.py                              # CPU (and CUDA when present)
    python benchmarks/bench_step.py --device cuda --batch 64 128 --steps 20 --amp
    python benchmarks/bench_step.py --methods aimclr --batch 64 --steps 3

Side by side with the official ST-GCN (``--official``): the same method with both backbones
replaced by :class:`skelcl_lib.models.stgcn_official.OfficialSTGCN`, the literal official
forward with the same weights. Its views are made once, outside the timer (the official code
augments in its DataLoader workers), while this repository's step augments inside the timer. The
variants run alternately in one process with the same threads, so on a shared machine they see
the same load; the ratio is the median of the per-round ratios. Besides wall-clock time the
table gives the CPU time of the process per step, which a shared machine disturbs far less (with
one thread it is the work done; with more it adds up all threads), and its user-mode part (the
CPU time without the kernel's page faults on freshly allocated tensors)::

    python benchmarks/bench_step.py --official --methods aimclr --batch 64 --steps 7 --threads 2
    python benchmarks/bench_step.py --official --variants direct --profile   # + a profile

Not a test: timings depend on the machine; record the table in docs/results/step_benchmark.md.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import time

import torch

from skelcl_lib.methods import ASCAL, AimCLR, SkeletonCLR
from skelcl_lib.models.stgcn import TEMPORAL_CONVS
from skelcl_lib.models.stgcn_official import official_from_encoder


def build(method: str, batch: int, queue: int):
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


class Runner:
    """One model + optimiser + input; ``step()`` runs and times one training step."""

    def __init__(self, model, x, device, amp: bool, premade_views: bool = False):
        self.model, self.x, self.device, self.amp = model, x, device, amp
        self.opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01,
                                   momentum=0.9, weight_decay=1e-4)
        self.y = torch.zeros(len(x), dtype=torch.long, device=device)
        if premade_views:      # the official loader hands over finished views: augment once, here
            views = {}
            augment_views = model.views

            def cached(x, transform, n=1):
                key = (id(transform), n)
                if key not in views:
                    views[key] = augment_views(x, transform, n)
                return views[key]
            model.views = cached

    def step(self) -> tuple[float, float, float]:
        """One training step: (wall-clock seconds, CPU seconds of this process, the user-mode
        part of them: the CPU time without the kernel's page faults on fresh tensors)."""
        sync(self.device)
        t0, c0, u0 = time.perf_counter(), time.process_time(), user_time()
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            loss, _ = self.model.training_step((self.x, self.y))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.model.after_optimizer_step()
        sync(self.device)
        return time.perf_counter() - t0, time.process_time() - c0, user_time() - u0


def user_time() -> float:
    """CPU seconds of this process in user mode."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_utime


def with_official_backbones(model):
    """The same method with the official ST-GCN forward (same weights) in both encoders."""
    for enc in (model.encoder_q, model.encoder_k):
        enc.backbone = official_from_encoder(enc.backbone)
    for p in model.encoder_k.parameters():
        p.requires_grad_(False)
    return model


def make_runners(method: str, batch: int, device: torch.device, queue: int, amp: bool,
                 variants: list[str]) -> dict:
    """``variants``: "official" and/or temporal-conv choices of this repository's ST-GCN."""
    torch.manual_seed(0)
    x = torch.randn(batch, 3, 50, 25, 2, device=device) * 0.3
    runners = {}
    for v in variants:
        torch.manual_seed(0)                  # the same initial weights for every variant
        m = build(method, batch, queue).to(device).train()
        m.on_epoch_start(2)                   # past AS-CAL's forward-only warm-up epoch
        if v == "official":
            m = with_official_backbones(m)
        elif v != "ours":
            for enc in (m.encoder_q, m.encoder_k):
                enc.backbone.set_temporal_conv(v)
        runners[v] = Runner(m, x, device, amp, premade_views=(v == "official"))
    return runners


def time_alternating(runners: dict, steps: int, warmup: int) -> dict:
    """Per variant the list of (wall, CPU, user CPU) step times; the variants take turns, one
    step each per round."""
    for r in runners.values():
        for _ in range(warmup):
            r.step()
    times = {k: [] for k in runners}
    for _ in range(steps):
        for k, r in runners.items():
            times[k].append(r.step())
    return times


def rounds_ratio(reference: list[float], times: list[float]) -> float:
    """Median over rounds of reference time ÷ time (both timed in the same round)."""
    return statistics.median(r / t for r, t in zip(reference, times))


def profile_step(runner: Runner, rows: int = 25) -> str:
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        runner.step()
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=rows)


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
    p.add_argument("--official", action="store_true",
                   help="also time the official ST-GCN forward (ST-GCN methods), alternating")
    p.add_argument("--variants", nargs="*", default=[], choices=TEMPORAL_CONVS,
                   help="also time this repository's ST-GCN with these temporal_conv choices")
    p.add_argument("--profile", action="store_true",
                   help="print a torch.profiler table of one step of each variant")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cudnn.benchmark = args.cudnn_benchmark
    devices = args.device or (["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} CPU threads, amp={args.amp}, queue={args.queue}")
    if torch.cuda.is_available():
        print(f"GPU: {torch.cuda.get_device_name()}")
    print("| method | ST-GCN | device | batch | s/step (median) | min–max | samples/s | "
          "official ÷ this | CPU s/step | official ÷ this (CPU) | user CPU s/step | "
          "official ÷ this (user CPU) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for dev in devices:
        device = torch.device(dev)
        for method in args.methods:
            stgcn = method != "ascal"
            variants = (["official"] if args.official and stgcn else []) + ["ours"]
            variants += [v for v in args.variants if stgcn and v != "auto"]
            for b in args.batch:
                q = args.queue - args.queue % b if stgcn else args.queue     # K % B == 0
                runners = make_runners(method, b, device, q, args.amp, variants)
                times = time_alternating(runners, args.steps, args.warmup)
                for v, tc in times.items():
                    ts, cs, us = ([t[i] for t in tc] for i in range(3))
                    ratio = ratio_cpu = ratio_user = ""
                    if "official" in times:
                        ref = times["official"]
                        ratio = f"{rounds_ratio([t[0] for t in ref], ts):.2f}×"
                        ratio_cpu = f"{rounds_ratio([t[1] for t in ref], cs):.2f}×"
                        ratio_user = f"{rounds_ratio([t[2] for t in ref], us):.2f}×"
                    label = "—" if not stgcn else ("official" if v == "official" else
                                                   "this repository" if v == "ours" else
                                                   f"this repository, temporal_conv={v}")
                    med = statistics.median(ts)
                    print(f"| {method} | {label} | {dev} | {b} | {med:.3f} | "
                          f"{min(ts):.3f}–{max(ts):.3f} | {b / med:.1f} | {ratio} | "
                          f"{statistics.median(cs):.3f} | {ratio_cpu} | "
                          f"{statistics.median(us):.3f} | {ratio_user} |", flush=True)
                if args.profile:
                    for v, r in runners.items():
                        print(f"\nprofile of one step: {method}, {v}, batch {b}, {dev}\n")
                        print(profile_step(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
