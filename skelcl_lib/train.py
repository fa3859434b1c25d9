"""The pretraining loop, one function for every method: :func:`fit`.

A method is an ``nn.Module`` with ``training_step(batch) -> (loss, logs)``,
``on_epoch_start(epoch)`` (1-based) and ``after_optimizer_step()``; a step that returns
``loss=None`` is **forward-only** (AS-CAL's queue warm-up epoch): the loop then does no backward,
no optimiser step and does not call ``after_optimizer_step``. A method that may do so should run
such steps without autograd. The loop does not know which method it runs; configs are described
in :mod:`skelcl_lib.config`, the command that builds data and method in :mod:`skelcl_lib.pretrain`.

Determinism and resume: the data order of epoch e is a permutation seeded by (seed, e) and the
global torch RNG (which the augmentations draw from) is re-seeded from (seed, e, rank) at the
start of every epoch, so a run resumed from the checkpoint of epoch e continues exactly as the
uninterrupted run (bit for bit on the CPU) without saving any RNG state. Checkpoints
(:mod:`skelcl_lib.rundir`) hold the method (with its queue), the optimiser, the AMP scaler, the
epoch, the config and the data info.

Multi-GPU: ``torchrun --nproc_per_node=G -m skelcl_lib pretrain --config ...`` wraps the method in
DistributedDataParallel; each process sees 1/G of every epoch, and keys are gathered across
processes before they enter the queue (``methods.moco.concat_all_gather``). ``batch_size`` is per
process. The learning rate is not rescaled: state it with ``--set train.lr=...``.
"""

from __future__ import annotations

import os
import pathlib
import time
from typing import Callable

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from tqdm.auto import tqdm

from .config import plain
from .data.build import data_info, instance_ids
from .env import pick_device
from .optim import build_optimizer, lr_at, lr_at_step
from .rundir import LAST, append_log, load_state, read_log, save_atomic, write_log


class _Batches(torch.utils.data.Dataset):
    """Item = a list of indices -> one batch (x float32 (B, C, T, V, M), y (B,), ids (B,) int64):
    one array read per batch. ``ids`` (default: the sample positions) let a method recognise a
    clip again (:func:`~skelcl_lib.data.build.instance_ids`); methods that do not need them read
    ``batch[0]`` only."""

    def __init__(self, data, ids: np.ndarray | None = None):
        self.x, self.y = data.x, data.y
        self.ids = np.arange(len(data.y), dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, idx):
        idx = np.asarray(idx)
        x = torch.from_numpy(np.ascontiguousarray(self.x[idx], dtype=np.float32))
        return x, torch.from_numpy(np.asarray(self.y[idx], dtype=np.int64)), torch.from_numpy(self.ids[idx])


def make_loader(data, tc: dict, seed: int, rank: int = 0, world: int = 1, pin_memory: bool = False,
                ids: np.ndarray | None = None):
    """(loader, sampler): shuffled batches (x, y, ids); call ``sampler.set_epoch(e)`` before epoch e."""
    sampler = torch.utils.data.DistributedSampler(range(len(data)), num_replicas=world, rank=rank,
                                                  shuffle=True, seed=seed)
    batches = torch.utils.data.BatchSampler(sampler, tc["batch_size"], drop_last=tc["drop_last"])
    loader = torch.utils.data.DataLoader(_Batches(data, ids), sampler=batches, batch_size=None,
                                         num_workers=tc["num_workers"], pin_memory=pin_memory)
    return loader, sampler


def epoch_seed(seed: int, epoch: int, rank: int) -> int:
    """The torch seed of one epoch on one process."""
    return int(np.random.SeedSequence([seed, epoch, rank]).generate_state(1)[0])


class _Step(nn.Module):
    """DDP calls ``forward``; ours is the method's ``training_step``."""

    def __init__(self, method):
        super().__init__()
        self.method = method

    def forward(self, batch):
        return self.method.training_step(batch)


def distributed_rank_world() -> tuple[int, int]:
    return (dist.get_rank(), dist.get_world_size()) if dist.is_available() and dist.is_initialized() else (0, 1)


def init_distributed() -> bool:
    """Initialise torch.distributed under torchrun (WORLD_SIZE > 1); True if this call did it."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return False
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend)
    return True


def _device(tc: dict, rank: int, world: int) -> torch.device:
    if world > 1 and torch.cuda.is_available() and tc["device"] in ("auto", "cuda"):
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", rank)))
    return pick_device(None if tc["device"] == "auto" else tc["device"])


def _progress(steps: int, epoch: int, tc: dict, rank: int):
    """A progress bar of ``steps`` steps, or None. It is given the count only, never the loader:
    ``tqdm.auto`` opens an iterator of the iterable it wraps, and each DataLoader iterator draws
    its base seed from the global torch RNG, so a wrapped loader would shift every augmentation
    of the run (a run with the bar would not repeat the same run without it)."""
    if not tc["progress"] or rank != 0:
        return None
    return tqdm(total=steps, desc=f"epoch {epoch}/{tc['epochs']}", leave=False, dynamic_ncols=True)


def fit(method: nn.Module, train, config: dict, run_dir=None, resume: bool = False,
        info: dict | None = None, on_epoch_end: Callable[[int], dict] | None = None) -> nn.Module:
    """Pretrain ``method`` on ``train`` (SkeletonData) for ``config["train"]["epochs"]`` epochs.

    Batches are (x, y, ids), ids as ``config["data"]["instance_ids"]`` says (sample positions by
    default). The lr of each step is :func:`~skelcl_lib.optim.lr_at_step` (the epoch's lr, with
    the optional linear warm-up); a log row's ``lr`` is the epoch's lr without warm-up.
    ``on_epoch_end(epoch) -> dict`` (rank 0 only), when given, runs after each epoch's steps and
    its fields join that epoch's log row (``pretrain`` passes the per-epoch probe).

    Writes ``log.jsonl``, ``checkpoint_last.pt`` (every epoch) and ``ckpt_epoch_XXX.pt`` (every
    ``save_every`` epochs) in ``run_dir`` (rank 0 only; None writes nothing). ``resume`` continues
    from ``run_dir/checkpoint_last.pt``. Returns the method (unwrapped, on its device).
    """
    tc, seed = config["train"], int(config["seed"])
    rank, world = distributed_rank_world()
    device = _device(tc, rank, world)
    method.to(device)
    run_dir = None if run_dir is None else pathlib.Path(run_dir)
    writer = run_dir is not None and rank == 0
    if writer:
        run_dir.mkdir(parents=True, exist_ok=True)

    # --- optimiser, mixed precision, DDP, data
    params = [p for p in method.parameters() if p.requires_grad]
    optimizer = build_optimizer(params, tc)
    use_amp = bool(tc["amp"]) and device.type == "cuda"
    amp_dtype = getattr(torch, tc["amp_dtype"])
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    step_module = _Step(method)
    if world > 1:
        for t in method.state_dict().values():      # every rank starts from rank 0's weights and queue
            dist.broadcast(t, src=0)
        step_module = nn.parallel.DistributedDataParallel(
            step_module, device_ids=[device.index] if device.type == "cuda" else None,
            broadcast_buffers=False)            # queues stay equal anyway: every rank enqueues all keys
    ids = instance_ids(train, config["data"].get("instance_ids", "sample"), config["data"].get("raw_neighbours", 1))
    loader, sampler = make_loader(train, tc, seed, rank, world, pin_memory=device.type == "cuda", ids=ids)
    if tc.get("min_steps") and tc["epochs"] * len(loader) < tc["min_steps"]:
        raise ValueError(f"config field 'train.min_steps': {tc['min_steps']} steps asked, but "
                         f"{tc['epochs']} epochs of {len(loader)} steps give {tc['epochs'] * len(loader)}; "
                         f"stretch the config first (optim.stretch_schedule, as skelcl pretrain does)")

    # --- resume: weights, queue, optimiser and scaler; the epoch seeds do the rest
    start = 1
    if resume:
        ckpt = load_state(run_dir / LAST, map_location=device)
        method.load_state_dict(ckpt["method"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scaler.load_state_dict(ckpt["scaler"])
        start = int(ckpt["epoch"]) + 1
        if writer and (run_dir / "log.jsonl").exists():   # drop rows of epochs after the checkpoint
            write_log(run_dir, [r for r in read_log(run_dir) if r["epoch"] < start])
    elif writer:
        write_log(run_dir, [])

    for epoch in range(start, tc["epochs"] + 1):
        lr = lr_at(epoch, tc)                              # each step's lr: lr_at_step below
        sampler.set_epoch(epoch)
        torch.manual_seed(epoch_seed(seed, epoch, rank))   # augmentations draw from here
        method.train()
        method.on_epoch_start(epoch)
        sums, steps, updates, seen, t0 = {}, 0, 0, 0, time.time()
        bar = _progress(len(loader), epoch, tc, rank)
        for batch in loader:
            batch = [b.to(device, non_blocking=True) for b in batch]
            for group in optimizer.param_groups:
                group["lr"] = lr_at_step(epoch, steps, len(loader), tc)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                loss, logs = step_module(batch)
            if loss is not None:                             # None: a forward-only step
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if tc["grad_clip"]:
                    scaler.unscale_(optimizer)
                    logs["grad_norm"] = nn.utils.clip_grad_norm_(params, tc["grad_clip"]).detach()
                scaler.step(optimizer)
                scaler.update()
                method.after_optimizer_step()
                updates += 1
            # logs stay device tensors until the end of the epoch: no host sync per step on a GPU
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + (v.detach().float() if torch.is_tensor(v) else float(v))
            steps, seen = steps + 1, seen + len(batch[0])
            if bar is not None:
                bar.update(1)
                if device.type == "cpu" or steps % 25 == 1:
                    bar.set_postfix(loss=f"{float(logs.get('loss', float('nan'))):.4f}",
                                    samples_s=f"{seen / max(time.time() - t0, 1e-9):.0f}")
        if bar is not None:
            bar.close()

        # --- end of epoch: one log row, the checkpoints
        seconds = time.time() - t0
        row = {"epoch": epoch, "lr": lr, **{k: float(v) / max(steps, 1) for k, v in sums.items()},
               "optimizer_steps": updates,
               "seconds": round(seconds, 3), "samples_per_s": round(seen * world / max(seconds, 1e-9), 1)}
        if on_epoch_end is not None and rank == 0:
            row.update(on_epoch_end(epoch))
        if writer:
            append_log(run_dir, row)
            ckpt = {"epoch": epoch, "config": plain(config), "data_info": info or data_info(train),
                    "method": method.state_dict(), "optimizer": optimizer.state_dict(),
                    "scaler": scaler.state_dict()}
            save_atomic(ckpt, run_dir / LAST)
            if tc["save_every"] and epoch % tc["save_every"] == 0:
                save_atomic(ckpt, run_dir / f"ckpt_epoch_{epoch:03d}.pt")
        if world > 1:
            dist.barrier()
    return method
