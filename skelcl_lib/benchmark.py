"""``skelcl benchmark``: pretrain what is missing, evaluate every method, write one markdown table.

For each split of the chosen data and each method it finds an encoder, in this order:

1. a shipped checkpoint (``skelcl_lib/pretrained/manifest.json``) for the same method, stream, data
   source, protocol and data seed (unless ``--retrain``);
2. a finished run ``RUNS/<method>_<data>_<split>/checkpoint_last.pt`` from an earlier call;
3. otherwise it pretrains one with the method's config for that data (``--quick``: a tiny
   stand-in: 1 epoch on a small slice; numbers from it only show the pipeline works).

Then every encoder goes through the same protocols: the paper's linear evaluation with the
epoch chosen on a validation split (honest) and with the best test epoch (official), cosine kNN
(k = 1 and 20) and the scikit-learn logistic probe. The raw-coordinate baseline gets the probe,
AS-CAL's linear protocol and kNN on :func:`skelcl_lib.evaluate.features.raw_features`. The output (``--out``) is a markdown file:
the command, the machine (cores, torch version, threads, device), where each encoder came from,
then the table; a ``.json`` beside it holds the same rows.

``--supervised`` adds the supervised baseline (each encoder architecture trained from scratch
with every label); ``--transfer-from DATA SPLIT [PATH]`` evaluates the encoders pretrained on
another dataset instead (the target clips converted to the source's joint layout).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shlex
import sys
import time

import numpy as np
import torch

from .checkpoints import checkpoint_dir, load_pretrained, read_manifest
from .config import DEFAULTS, config_diff, load_config, merge
from .data import convert_layout
from .data.build import INPUT_FIELDS, build_data, data_info
from .env import machine_summary
from .evaluate.features import extract_features, linear_probe, raw_features
from .evaluate.knn import knn_accuracy
from .evaluate.metrics import FUSION_WEIGHTS, ensemble, topk_accuracy
from .evaluate.protocols import linear_evaluation, supervised_from_scratch
from .evaluate.report import result_row, results_table
from .evaluate.suite import evaluate_extractor
from .methods import build_method
from .pretrain import pretrain
from .rundir import read_checkpoint, read_config

METHODS = ("raw", "ascal", "skeletonclr", "aimclr")
DEFAULT_SPLITS = {"synthetic": ("xsub", "xview"), "nucla": ("xview",), "ntu60": ("xsub", "xview"),
                  "ntu120": ("xsub", "xset")}


def method_config(method: str, data: str, split: str, root: str | None = None, quick: bool = False,
                  seed: int = 0, stream: str = "joint") -> tuple[str, list[str]]:
    """(packaged config name, overrides) that pretrains ``method`` (``stream``) on ``data``/``split``."""
    if stream != "joint" and method == "ascal":
        raise ValueError("method_config: AS-CAL has no motion/bone streams")
    if data == "synthetic":
        name = f"{method}_synthetic" + ("" if stream == "joint" else f"_{stream}")
        overrides = [f"data.protocol={split}", f"data.seed={seed}"]
    elif data == "nucla":
        # AS-CAL reads frame50 here like the ST-GCN methods (the official 60-frame input scores
        # 48.7 against 74.6 probe: README); ascal_nucla keeps the official input
        name = "ascal_nucla_frame50" if method == "ascal" else f"{method}_nucla"
        overrides = [f"data.protocol={split}"] + ([f"data.root={root}"] if root else [])
        overrides += [] if stream == "joint" else [f"model.stream={stream}"]
    elif data in ("ntu60", "ntu120"):
        name = f"ascal_{data}_{split}" if method == "ascal" else f"{method}_{data}_{split}_{stream}"
        overrides = [f"data.root={os.path.join(root, split)}"] if root else []
    else:
        raise ValueError(f"--data: expected synthetic, nucla or ntu60/ntu120, got {data!r}")
    if quick:
        overrides += ["train.epochs=1", "data.max_train=96", "data.max_test=96", "train.batch_size=16",
                      "train.lr_milestones=[]", "train.save_every=0", "train.num_workers=0"]
        if data == "synthetic":
            overrides += ["data.synthetic.size=small"]
        if method == "ascal":
            overrides += ["model.K=32", "model.hidden_size=32"]
        else:
            overrides += ["model.queue_size=32"]
        if method == "aimclr":
            overrides += ["model.mining_epoch=0"]
    return name, overrides


def _matching_checkpoint(method: str, config: dict) -> str | None:
    """The shipped checkpoint of ``method`` trained on the same data, split, stream and size as
    ``config``; of several (e.g. a paper config and a ``*_cpu`` recipe on the same split), the one
    trained with ``config``'s own config name, else the first in the manifest."""
    d = config["data"]
    stream = (config.get("model") or {}).get("stream", "joint")
    found = []
    for name, e in read_manifest()["entries"].items():         # one read of the manifest
        if not (checkpoint_dir() / e["file"]).exists():
            continue
        ed = e["data"]
        if (e["method"] == method and e.get("stream", "joint") == stream and ed["source"] == d.get("source")
                and ed["protocol"] == d.get("protocol") and ed.get("seed", 0) == d.get("seed", 0)
                and (ed.get("size") or "full") == ((d.get("synthetic") or {}).get("size") or "full")):
            found.append((e.get("config_name") != config.get("name"), name))
    return min(found)[1] if found else None


_IGNORED = ("data.root", "train.progress", "train.num_workers", "train.device")


def config_mismatch(path, config: dict) -> list[str]:
    """Differences ("section.key: run X, config Y") in the method, data, model and train sections
    between an earlier run's ``config.yaml`` and ``config`` (paths and display options ignored;
    a key the earlier config lacks, an option added since, reads as its default)."""
    path = pathlib.Path(path)
    prev = read_config(path.parent, path.name)
    if prev is None:
        return []
    prev = merge(DEFAULTS, prev)
    sections = ("method", "data", "model", "train")
    return [f"{key}: run {a!r}, config {b!r}" for key, a, b in
            config_diff({k: prev.get(k) for k in sections}, {k: config.get(k) for k in sections}, _IGNORED)]


def encoder_for(method: str, data: str, split: str, root=None, quick=False, seed=0, runs="runs/benchmark",
                retrain=False, log=print, stream: str = "joint"):
    """(extractor, config, provenance dict) for one method on one split (see the module doc); the
    provenance holds the ``data_info`` (layout, bodies, ...) the encoder was trained on."""

    name, overrides = method_config(method, data, split, root, quick, seed, stream)
    config = load_config(name, overrides)
    if not retrain and not quick:
        ck = _matching_checkpoint(method, config)
        if ck:
            extractor, entry = load_pretrained(ck)
            return extractor, entry["config"], {"source": f"shipped checkpoint {ck}",
                                                "epochs": entry["epochs"],
                                                "pretrain_s": entry.get("train_seconds"),
                                                "data_info": entry["data_info"]}
    tag = "" if stream == "joint" else f"_{stream}"
    run_dir = pathlib.Path(runs) / f"{method}{tag}_{data}_{split}{'_quick' if quick else ''}"
    ckpt = run_dir / "checkpoint_last.pt"
    done = ckpt.exists() and (run_dir / "probe.json").exists()
    if done and not retrain:
        diff = config_mismatch(run_dir / "config.yaml", config)
        if diff:
            raise ValueError(f"{run_dir / 'config.yaml'}: this earlier run was trained with a different "
                             f"setting ({'; '.join(diff)}) than config {name!r} asks for; move the run "
                             f"away, choose another --runs folder, or pass --retrain to replace it")
    if retrain or not done:
        log(f"[benchmark] pretraining {method} on {data}/{split}: config {name} {' '.join(overrides)}")
        t0 = time.perf_counter()
        pretrain(config, run_dir)
        source, seconds = f"pretrained now ({name})", time.perf_counter() - t0
    else:
        source, seconds = f"earlier run {run_dir}", None
    method_obj, raw = read_checkpoint(ckpt)
    config = raw["config"]
    return method_obj.feature_extractor().eval(), config, {
        "source": source, "epochs": int(config["train"]["epochs"]), "pretrain_s": seconds,
        "data_info": raw["data_info"]}


def run_benchmark(data: str = "synthetic", root: str | None = None, splits=None, methods=METHODS,
                  quick: bool = False, seeds=(0,), select=("val", "best_test"), runs="runs/benchmark",
                  retrain: bool = False, linear_epochs: int | None = None, untrained: bool = False,
                  ensemble: bool = False, supervised: bool = False, supervised_epochs: int | None = None,
                  transfer_from: tuple | None = None, log=print) -> dict:
    """Evaluate ``methods`` on every split; returns {"rows": [...], "provenance": {...}}.
    ``untrained``: also evaluate each encoder at its random initialisation (what pretraining adds).
    ``ensemble``: for AimCLR also the motion and bone streams and the 3-stream fusion.
    ``supervised``: also train each encoder architecture (LSTM, ST-GCN) from scratch with every
    training label (``evaluate.protocols.supervised_from_scratch``; ``supervised_epochs`` overrides its 60).
    ``transfer_from``: ``(data, split[, root])``: the encoders are the ones pretrained on that
    source (shipped checkpoint, earlier run or pretrained now), evaluated on this data; the target
    clips are converted to the source's joint layout and body count (``data.convert_layout``)."""

    splits = tuple(splits or DEFAULT_SPLITS[data])
    rows, provenance = [], {}
    done_archs: set = set()                 # supervised baselines already trained, (arch, split)
    if transfer_from and (ensemble or untrained):
        raise ValueError("benchmark: --transfer-from evaluates the source's encoders; "
                         "--ensemble and --untrained are for in-domain runs")
    if quick and linear_epochs is None:
        linear_epochs = 3
    for split in splits:
        for method in methods:
            t0 = time.perf_counter()
            if method == "raw":
                # the same data as the methods see: the AS-CAL config's data section
                name, overrides = method_config("ascal", data, split, root, quick, seeds[0])
                cfg = load_config(name, overrides)
                # coordinates as recorded: raw_features does its own time normalisation
                cfg["data"].update(dict.fromkeys(INPUT_FIELDS))
                train, test = build_data(cfg)
                ftr, fte = raw_features(train), raw_features(test)
                dataset = getattr(train, "dataset", data)
                base = {"method": "raw coordinates", "dataset": dataset, "split": split}
                acc = linear_probe(ftr, train.y, fte, test.y)
                rows.append(result_row(**base, protocol="probe (logistic)", top1=acc, select="none (fixed C=1)",
                                       wall_s=time.perf_counter() - t0, settings="spine-centred, 20 frames"))
                for s in seeds:
                    for sel in select:
                        r = linear_evaluation(ftr, train.y, fte, test.y, protocol="ascal", select=sel,
                                              seed=s, epochs=linear_epochs)
                        rows.append(result_row(**base, protocol="linear (ascal)", top1=r["top1"], top5=r["top5"],
                                               select=sel, seed=s, wall_s=r["wall_s"], settings=r["settings"]))
                for k, v in knn_accuracy(ftr, train.y, fte, test.y, k=(1, 20)).items():
                    rows.append(result_row(**base, protocol=f"kNN k={k}", top1=v, select="none (no training)",
                                           settings="cosine, L2-normalised"))
                provenance[f"raw/{split}"] = {"source": "no training", "epochs": 0, "pretrain_s": 0}
                continue
            label = {"ascal": "AS-CAL", "skeletonclr": "SkeletonCLR", "aimclr": "AimCLR"}[method]
            if transfer_from:
                src_data, src_split, *src_root = transfer_from
                extractor, src_config, prov = encoder_for(method, src_data, src_split, (src_root or [None])[0],
                                                          quick, seeds[0], runs, retrain, log)
                train, test, config = transfer_data(src_config, prov["data_info"], method, data, split,
                                                    root, quick, seeds[0])
                provenance[f"{method} (from {src_data} {src_split})/{split}"] = prov
                label = f"{label} (pretrained on {src_data} {src_split})"
            else:
                extractor, config, prov = encoder_for(method, data, split, root, quick, seeds[0], runs, retrain, log)
                provenance[f"{method}/{split}"] = prov
                train, test = build_data(config)
            lin = "ascal" if method == "ascal" else "aimclr"
            feats, joint_logits = None, {}      # features extracted once, reused by every protocol
            for s in seeds:
                for sel in select:
                    protocols = ("linear", "knn", "probe") if (s, sel) == (seeds[0], select[0]) else ("linear",)
                    out = evaluate_extractor(extractor, train, test, protocols=protocols, linear_protocol=lin,
                                             select=sel, knn_k=(1, 20), seed=s, epochs=linear_epochs,
                                             method=label, split=split, features=feats)
                    feats = (out["train_features"], out["test_features"])
                    joint_logits[(s, sel)] = out["results"]["linear"]["logits"]
                    rows += out["rows"]
            if ensemble and method == "aimclr":
                rows += _ensemble_rows(joint_logits, test, data, split, root, quick, seeds, select,
                                       runs, retrain, linear_epochs, provenance, log)
            if supervised and not transfer_from:
                rows += _supervised_rows(method, config, train, test, split, select[0], seeds[0],
                                         supervised_epochs, done_archs, log)
            if untrained and not transfer_from:  # the same encoder with its random initialisation

                with torch.random.fork_rng(devices=[]):
                    torch.manual_seed(int(config.get("seed") or 0))
                    rand = build_method(config, data_info(train)).feature_extractor().eval()
                out = evaluate_extractor(rand, train, test, protocols=("linear", "knn", "probe"),
                                         linear_protocol=lin, select=select[0], knn_k=(1, 20), seed=seeds[0],
                                         epochs=linear_epochs, method=f"{label} untrained", split=split)
                rows += out["rows"]
            log(f"[benchmark] {method} {split}: {time.perf_counter() - t0:.0f} s")
    return {"rows": rows, "provenance": provenance}


ARCHITECTURES = {"ascal": "LSTM", "skeletonclr": "ST-GCN", "aimclr": "ST-GCN"}


def _supervised_rows(method, config, train, test, split, select, seed, epochs, done, log) -> list[dict]:
    """The method's encoder architecture trained from scratch on every training label (once per
    architecture and split: SkeletonCLR and AimCLR share the ST-GCN)."""

    arch = ARCHITECTURES[method]
    if (arch, split) in done:
        return []
    done.add((arch, split))
    t0 = time.perf_counter()
    info = data_info(train)
    # fewer epochs than AS-CAL's 60: its ×0.5 steps (after 30 and 40) move to the same fractions
    milestones = None if epochs is None else tuple(sorted({max(1, epochs // 2), max(1, 2 * epochs // 3)}))
    r = supervised_from_scratch(lambda: build_method(config, info).feature_extractor(), train, test,
                                epochs=epochs, milestones=milestones, select=select, seed=seed)
    log(f"[benchmark] {arch} supervised from scratch on {split}: {r['top1'] * 100:.1f} % "
        f"({time.perf_counter() - t0:.0f} s)")
    return [result_row(f"{arch} supervised from scratch ({config.get('name')} encoder)",
                       getattr(train, "dataset", ""), split, "supervised (scratch)", r["top1"], r["top5"],
                       select, seed, time.perf_counter() - t0, r["settings"])]


def transfer_data(source_config: dict, source_info: dict, method: str, data: str, split: str, root=None,
                  quick=False, seed=0):
    """(train, test, config) of the target ``data``/``split`` as ``method``'s target config reads
    it, with the source encoder's preprocessing (``source_config``), converted to the joint layout
    and body count it was trained on (``source_info``: its checkpoint's ``data_info``)."""

    layout, bodies = source_info["layout"], int(source_info["bodies"])
    config = load_config(*method_config(method, data, split, root, quick, seed))
    config["data"].update({k: source_config["data"].get(k) for k in INPUT_FIELDS})   # the encoder's input
    train, test = build_data(config)
    drop = bodies < train.x.shape[-1]
    return (convert_layout(train, layout, bodies, drop_bodies=drop),
            convert_layout(test, layout, bodies, drop_bodies=drop), config)


def _ensemble_rows(joint_logits, test, data, split, root, quick, seeds, select,
                   runs, retrain, linear_epochs, provenance, log) -> list[dict]:
    """AimCLR motion and bone streams (linear, both selections) and the 0.6/0.6/0.4 logit fusion.

    Each stream's linear classifier is trained on its own frozen features with the AimCLR
    protocol; the fused prediction is argmax Σ_s w_s · logits_s of the test logits at each
    stream's reported epoch (best test epoch, or the validation-selected one). The joint
    stream's logits come from the main evaluation (``joint_logits[(seed, select)]``)."""

    rows = []
    logits = {("joint", s, sel): v for (s, sel), v in joint_logits.items()}
    streams = ["joint"]
    for stream in ("motion", "bone"):
        ex, cfg, prov = encoder_for("aimclr", data, split, root, quick, seeds[0], runs, retrain, log, stream)
        provenance[f"aimclr-{stream}/{split}"] = prov
        streams.append(stream)
        tr, te = build_data(cfg)
        if not np.array_equal(te.y, test.y):
            raise ValueError(f"ensemble: the {stream} stream's test split differs from the joint stream's")
        ftr, fte = extract_features(ex, tr), extract_features(ex, te)
        for s in seeds:
            for sel in select:
                r = linear_evaluation(ftr, tr.y, fte, te.y, protocol="aimclr", select=sel, seed=s,
                                      epochs=linear_epochs)
                logits[(stream, s, sel)] = r["logits"]
                rows.append(result_row(f"AimCLR ({stream})", getattr(te, "dataset", data), split,
                                       "linear (aimclr)", r["top1"], r["top5"], sel, s, r["wall_s"],
                                       r["settings"]))
    for s in seeds:
        for sel in select:
            fused = ensemble({st: logits[(st, s, sel)] for st in streams})
            acc = topk_accuracy(fused, test.y, (1, 5))
            w = ", ".join(f"{st} {FUSION_WEIGHTS[st]}" for st in streams)
            rows.append(result_row("AimCLR 3-stream", getattr(test, "dataset", data), split,
                                   "linear (aimclr), fused logits", acc[1], acc[5], sel, s, 0.0, f"weights {w}"))
    return rows


def render(result: dict, command: str, data: str) -> str:
    """The markdown report of a benchmark: command, machine, where each encoder came from, results."""
    lines = [f"## Benchmark: {data}", "", f"Command: `{command}`", "",
             f"Run on {machine_summary()}.", "",
             "| encoder | split | where it came from | pretraining epochs | pretraining wall (s) |",
             "|---|---|---|---:|---:|"]
    for key, p in result["provenance"].items():
        m, split = key.split("/")
        sec = "–" if p.get("pretrain_s") in (None, 0) else f"{p['pretrain_s']:.0f}"
        lines.append(f"| {m} | {split} | {p['source']} | {p['epochs']} | {sec} |")
    lines += ["", results_table(result["rows"]), ""]
    return "\n".join(lines)


def cli(argv: list[str]) -> int:
    """``skelcl benchmark [--data synthetic | nucla PATH | ntu60 PATH | ntu120 PATH] [--quick]``."""
    ap = argparse.ArgumentParser(prog="skelcl benchmark", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", nargs="+", default=["synthetic"], metavar=("NAME", "PATH"),
                    help="synthetic (embedded), nucla PATH (the N-UCLA folder), ntu60 PATH / ntu120 PATH "
                         "(a folder with the prepared xsub/ xview (xset/) subfolders)")
    ap.add_argument("--splits", nargs="+", default=None, help="default: every split of the data")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--quick", action="store_true",
                    help="tiny stand-ins (1 pretraining epoch, 96 samples, 3 linear epochs): checks the pipeline")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0], help="linear-evaluation seeds")
    ap.add_argument("--select", nargs="+", default=["val", "best_test"], choices=("val", "best_test"))
    ap.add_argument("--linear-epochs", type=int, default=None, help="override the protocols' epochs")
    ap.add_argument("--runs", default="runs/benchmark", help="where pretraining runs go")
    ap.add_argument("--retrain", action="store_true", help="ignore shipped checkpoints and earlier runs")
    ap.add_argument("--ensemble", action="store_true",
                    help="AimCLR: also the motion and bone streams and the 3-stream fusion (0.6/0.6/0.4)")
    ap.add_argument("--untrained", action="store_true",
                    help="also evaluate every encoder at its random initialisation (a baseline)")
    ap.add_argument("--supervised", action="store_true",
                    help="also train each encoder architecture from scratch with all training labels")
    ap.add_argument("--supervised-epochs", type=int, default=None,
                    help="epochs of the supervised baseline (default: AS-CAL's 60)")
    ap.add_argument("--transfer-from", nargs="+", default=None, metavar=("DATA", "SPLIT"),
                    help="evaluate encoders pretrained on DATA SPLIT [PATH] (e.g. synthetic xsub) on --data")
    ap.add_argument("--out", default=None, help="markdown file (default: print only); a .json beside it")
    args = ap.parse_args(argv)
    data, root = args.data[0], (args.data[1] if len(args.data) > 1 else None)
    if data not in DEFAULT_SPLITS:
        ap.error(f"--data: expected one of {sorted(DEFAULT_SPLITS)}, got {data!r}")
    if data != "synthetic" and not root:
        ap.error(f"--data {data} needs a PATH (the dataset is read from where you keep it)")
    if root and not os.path.isdir(root):
        ap.error(f"--data {data} {root}: not a directory")
    transfer = None
    if args.transfer_from:
        tf = args.transfer_from
        if len(tf) not in (2, 3) or tf[0] not in DEFAULT_SPLITS or tf[1] not in DEFAULT_SPLITS[tf[0]]:
            ap.error(f"--transfer-from: expected DATA SPLIT [PATH] with DATA one of {sorted(DEFAULT_SPLITS)} "
                     f"and one of its splits, got {' '.join(tf)!r}")
        if tf[0] != "synthetic" and len(tf) < 3:
            ap.error(f"--transfer-from {tf[0]} needs a PATH")
        if args.ensemble or args.untrained:
            ap.error("--transfer-from: --ensemble and --untrained are for in-domain runs")
        transfer = tuple(tf)
    t0 = time.perf_counter()
    result = run_benchmark(data, root, args.splits, args.methods, args.quick, tuple(args.seeds),
                           tuple(args.select), args.runs, args.retrain, args.linear_epochs, args.untrained,
                           args.ensemble, args.supervised, args.supervised_epochs, transfer)
    command = "skelcl benchmark " + " ".join(shlex.quote(a) for a in argv)
    text = render(result, command, data) + f"\nTotal wall time: {time.perf_counter() - t0:.0f} s.\n"
    print(text)
    if args.out:
        out = pathlib.Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        out.with_suffix(".json").write_text(json.dumps({"command": command, **result}, indent=2, default=float))
        print(f"written: {out}", file=sys.stderr)
    return 0
