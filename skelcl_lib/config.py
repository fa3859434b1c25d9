"""Run configs: YAML files merged over :data:`DEFAULTS`, ``--set`` overrides, and the schema.

A config is a plain dict (YAML)::

    method: ascal            # a key of skelcl_lib.methods.METHODS
    base: ascal_synthetic    # optional: start from another config, then override
    seed: 1
    data:  {source: synthetic | stgcn | nucla, protocol: xsub, preprocess: null | frame50,
            normalize_scale: null | torso length in metres, instance_ids: sample | recording | label
            | raw_clusters | raw_neighbours, raw_neighbours: 1,
            unlabelled_subjects: 0 | extra generator performers for pretraining only, ...}
    model: {...}             # keyword arguments of the method's builder
    train: {epochs, batch_size, optimizer, lr, lr_milestones, warmup_epochs, amp, device, ...}
    probe: {enabled, knn_k, batch_size, every}
    run_dir: runs/NAME

:data:`SCHEMA` knows every key of every section, with its type and range; :func:`load_config`
checks a config against it before anything is built, and :class:`~skelcl_lib.errors.ConfigError`
names the file (or ``--set``), the key, what was expected and what was found.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import pathlib
import re
from dataclasses import dataclass
from typing import Any, Callable

import yaml

from .errors import ConfigError, ConfigProblem

CONFIG_DIR = pathlib.Path(__file__).resolve().parent / "configs"

DEFAULTS: dict = {
    "method": "ascal",
    "seed": 1,
    "run_dir": None,                 # default: runs/<config name>
    "data": {"source": "synthetic", "protocol": "xsub", "preprocess": None, "normalize_scale": None,
             "instance_ids": "sample",    # the ids a batch carries (x, y, ids): sample | recording
             "raw_neighbours": 1,         # ... | raw_neighbours: that many raw-coordinate neighbours
             "unlabelled_subjects": 0},   # synthetic only: N more performers' clips in pretraining only
    "model": {},
    "train": {
        "epochs": 60,
        "min_steps": 0,              # at least this many loop steps (batches): more epochs on a small
                                     # dataset, epoch-counted settings scaled (optim.stretch_schedule)
        "batch_size": 32,
        "optimizer": "sgd",          # sgd | adamw
        "lr": 0.01,
        "momentum": 0.9,
        "nesterov": False,
        "weight_decay": 1.0e-4,
        "lr_schedule": "step",       # step (×lr_gamma after each milestone epoch) | cosine | constant
        "lr_milestones": [30, 70],
        "lr_gamma": 0.1,
        "warmup_epochs": 0,          # linear warm-up of the lr over the first N epochs, per step (0: none)
        "grad_clip": None,           # max global L2 norm of the gradients, None = off
        "amp": True,                 # mixed precision, CUDA only
        "amp_dtype": "float16",      # float16 (with a grad scaler) | bfloat16
        "device": "auto",            # auto = CUDA → MPS → CPU, or cpu / cuda / cuda:1 / mps
        "num_workers": 0,
        "drop_last": False,
        "save_every": 10,            # also keep ckpt_epoch_XXX.pt every N epochs (0: only the last)
        "progress": True,
    },
    "probe": {"enabled": True, "knn_k": [1, 5, 20], "batch_size": 256,
              "every": 0},           # also probe after every N-th epoch, into log.jsonl (0: only at the end)
}


class _Loader(yaml.SafeLoader):
    """YAML 1.1 reads ``1e-3`` (no dot) as a string; this loader reads it as the number it is."""


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(
    r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+|\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
    r"|\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))


def read_yaml(text: str):
    return yaml.load(text, Loader=_Loader)


def merge(base: dict, over: dict) -> dict:
    """A deep copy of ``base`` with ``over`` merged in, section by section."""
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def plain(obj):
    """``obj`` as JSON-compatible types (tuples -> lists), for ``weights_only`` checkpoints."""
    return json.loads(json.dumps(obj, default=str))


def flatten(config: dict, prefix: str = "") -> dict:
    """{"a.b": value} for every leaf of a nested dict (a mapping's keys joined by dots)."""
    out = {}
    for k, v in config.items():
        if isinstance(v, dict) and v:
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def config_diff(old: dict, new: dict, ignore=()) -> list[tuple[str, Any, Any]]:
    """[(dotted key, old value, new value)] where two configs differ (a missing key reads as
    None), sorted by key; keys in ``ignore`` (or under a section in it) are skipped."""
    a, b = flatten(plain(old)), flatten(plain(new))
    skip = tuple(ignore)
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k) and not any(k == i or k.startswith(i + ".") for i in skip)]


def config_path(name_or_path) -> pathlib.Path:
    """A YAML path as given, else a packaged config ``skelcl_lib/configs/NAME.yaml``."""
    p = pathlib.Path(name_or_path)
    if p.is_file():
        return p
    packaged = CONFIG_DIR / (p.name if p.suffix in (".yaml", ".yml") else p.name + ".yaml")
    if packaged.is_file() and p.parent == pathlib.Path("."):
        return packaged
    names = sorted(q.stem for q in CONFIG_DIR.glob("*.yaml"))
    raise FileNotFoundError(f"config {str(name_or_path)!r}: no such file, and not a packaged config; "
                            f"expected a YAML path or one of {names}")


def _read_yaml(path: pathlib.Path, chain=()) -> dict:
    if path in chain:
        raise ValueError(f"{path}: field 'base': circular base chain {[str(c) for c in chain]}")
    cfg = read_yaml(path.read_text()) or {}
    if not isinstance(cfg, dict):
        raise ValueError(f"{path}: expected a YAML mapping at the top level, got {type(cfg).__name__}")
    base = cfg.pop("base", None)
    if base is None:
        return cfg
    base_path = path.parent / base if (path.parent / str(base)).is_file() else config_path(base)
    return merge(_read_yaml(base_path, (*chain, path)), cfg)


def apply_override(cfg: dict, assignment: str) -> dict:
    """``"a.b=value"``: set ``cfg["a"]["b"]`` to the YAML value (in place, returns cfg)."""
    key, sep, text = assignment.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--set {assignment!r}: expected key=value, e.g. train.epochs=5")
    node, parts = cfg, key.strip().split(".")
    for part in parts[:-1]:
        if not isinstance(node.get(part, {}), dict):
            raise ValueError(f"--set {assignment!r}: {part!r} is not a section")
        node = node.setdefault(part, {})
    node[parts[-1]] = read_yaml(text)
    return cfg


# ---------------------------------------------------------------------------------------------
# Schema: one line per key. A new option is one line in its section's table.


@dataclass(frozen=True)
class Field:
    """One config value: ``expected`` (for the message) and ``test(value) -> bool``."""

    expected: str
    test: Callable[[Any], bool]


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


def _nullable(f: Field, null: bool) -> Field:
    return Field(f"{f.expected} or null", lambda v: v is None or f.test(v)) if null else f


def integer(lo: int | None = None, null: bool = False) -> Field:
    return _nullable(Field("an integer" + ("" if lo is None else f" >= {lo}"),
                           lambda v: _is_int(v) and (lo is None or v >= lo)), null)


def number(lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False,
           null: bool = False) -> Field:
    bounds = ([f"{'>' if lo_open else '>='} {lo:g}"] if lo is not None else []) + \
             ([f"{'<' if hi_open else '<='} {hi:g}"] if hi is not None else [])
    return _nullable(Field("a number" + (" " + " and ".join(bounds) if bounds else ""),
                           lambda v: _is_num(v) and (lo is None or (v > lo if lo_open else v >= lo))
                           and (hi is None or (v < hi if hi_open else v <= hi))), null)


def boolean(null: bool = False) -> Field:
    return _nullable(Field("true or false", lambda v: isinstance(v, bool)), null)


def text(*choices: str, null: bool = False) -> Field:
    if choices:
        return _nullable(Field(f"one of {list(choices)}", lambda v: v in choices), null)
    return _nullable(Field("a string (in quotes where YAML would read a number: '12345', on the command "
                           "line --set \"key='12345'\")", lambda v: isinstance(v, str)), null)


def int_list(lo: int = 0) -> Field:
    return Field(f"a list of integers >= {lo}",
                 lambda v: isinstance(v, (list, tuple)) and all(_is_int(x) and x >= lo for x in v))


def either(*fields: Field) -> Field:
    return Field(" or ".join(f.expected for f in fields), lambda v: any(f.test(v) for f in fields))


DEVICE = Field("auto, cpu, mps, cuda or cuda:N", lambda v: isinstance(v, str) and bool(
    re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", v)))
STREAM = text("joint", "motion", "bone")
STREAM_LIST = Field("a stream name or a list of them (joint, motion, bone)", lambda v: STREAM.test(v) or (
    isinstance(v, (list, tuple)) and len(v) > 0 and all(STREAM.test(s) for s in v)))

TOP = {"method": text(), "seed": integer(0), "run_dir": text(null=True), "name": text(),
       "data": Field("a mapping", lambda v: isinstance(v, dict)),
       "model": Field("a mapping", lambda v: v is None or isinstance(v, dict)),
       "train": Field("a mapping", lambda v: isinstance(v, dict)),
       "probe": Field("a mapping", lambda v: isinstance(v, dict))}

DATA = {
    "source": text("synthetic", "stgcn", "nucla"),
    "protocol": text(),
    "preprocess": text("none", "frame50", null=True),
    "normalize_scale": either(number(0, lo_open=True), Field("false or null", lambda v: v in (None, False))),
    "seed": integer(0),
    "synthetic": Field("a mapping of make_synthetic options", lambda v: v is None or isinstance(v, dict)),
    "root": text(),
    "train_data": text(), "train_label": text(), "test_data": text(), "test_label": text(),
    "max_train": integer(1, null=True), "max_test": integer(1, null=True),
    "instance_ids": text("sample", "recording", "label", "raw_clusters", "raw_neighbours"),   # data.build.instance_ids
    "raw_neighbours": integer(1),                  # with instance_ids: raw_neighbours, k
    "unlabelled_subjects": integer(0),             # data.build.build_pretrain_set
}

SYNTHETIC = {   # keyword arguments of data.synthetic.make_synthetic
    "size": text(), "num_subjects": integer(1, null=True), "repetitions": integer(1, null=True),
    "t_max": integer(1), "classes": Field("a list of class indices or null", lambda v: v is None or (
        isinstance(v, (list, tuple)) and all(_is_int(c) and c >= 0 for c in v))),
    "noise": boolean(), "glitches": boolean(), "noise_scale": number(0), "glitch_rate": number(0, 1),
    "cache": boolean(null=True),
}

TRAIN = {
    "epochs": integer(1),
    "min_steps": integer(0),
    "batch_size": integer(1),
    "optimizer": text("sgd", "adamw"),
    "lr": number(0, lo_open=True),
    "momentum": number(0, 1),
    "nesterov": boolean(),
    "weight_decay": number(0),
    "lr_schedule": text("step", "cosine", "constant"),
    "lr_milestones": int_list(0),
    "lr_gamma": number(0, lo_open=True),
    "warmup_epochs": number(0),
    "grad_clip": number(0, lo_open=True, null=True),
    "amp": boolean(),
    "amp_dtype": text("float16", "bfloat16"),
    "device": DEVICE,
    "num_workers": integer(0),
    "drop_last": boolean(),
    "save_every": integer(0),
    "progress": boolean(),
}

PROBE = {"enabled": boolean(), "knn_k": int_list(1), "batch_size": integer(1), "every": integer(0)}

_STGCN_MODEL = {   # SkeletonCLR's keyword arguments (methods/skeletonclr.py)
    "layout": text(), "stream": STREAM, "in_channels": integer(1), "hidden_channels": integer(1),
    "hidden_dim": integer(1), "feature_dim": integer(1), "mlp": boolean(), "dropout": number(0, 1, hi_open=True),
    "queue_size": either(text("auto"), integer(1)), "momentum": number(0, 1), "temperature": number(0, lo_open=True),
    "key_init_copy": boolean(), "key_encoder_train_mode": boolean(), "geodesic_partitions": boolean(),
    "shear_amplitude": number(0), "temporal_padding_ratio": integer(0),
    # not in the official code (docs/methods.md §9), each off by default:
    "queue_fraction": number(0, 1, lo_open=True),   # with queue_size: auto (skeletonclr.auto_queue_size)
    "mask_same_instance": boolean(), "twin_positives": boolean(), "bn_groups": integer(1),
    "input_bn": boolean(),                          # false: no input BatchNorm (models/stgcn.STGCN)
    "head_bn": boolean(),                           # true: BatchNorm in the head's hidden layer (models/heads)
    "reversed_negatives": boolean(),                # true: the reversed key view as one more negative
    # the normal views (augment.contrastive_view; AimCLR's extreme view is built apart)
    "resized_crop_scale": Field("null or [low, high] with 0 < low <= high <= 1", lambda v: v is None or (
        isinstance(v, (list, tuple)) and len(v) == 2
        and all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in v) and 0 < v[0] <= v[1] <= 1)),
    "motion_scale": Field("null or [low, high] with 0 < low <= high", lambda v: v is None or (
        isinstance(v, (list, tuple)) and len(v) == 2
        and all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in v) and 0 < v[0] <= v[1])),
    "view_ops": Field("extreme-op digits 1-6 (augment.extreme_ops), e.g. 2345, or ''",
                      lambda v: isinstance(v, (str, int)) and not isinstance(v, bool) and set(str(v)) <= set("123456")),
}

MODEL = {   # per method: the keyword arguments of its builder
    "ascal": {   # ASCAL.build (methods/ascal.py)
        "hidden_size": integer(1), "num_layers": integer(1), "K": either(text("auto"), integer(1)),
        "alpha": number(0, 1), "tau": number(0, lo_open=True), "selected_frames": integer(1),
        "center_joint": integer(0), "l2_normalize": boolean(), "skip_warmup_epoch": boolean(),
        "augmentation": text(), "key_augmentation": text(null=True), "blur_normalize": boolean(),
        "rotate_symmetric": boolean(), "pooling": text("mean", "sum", "last"),
        "head": text("none", "linear", "mlp", null=True), "head_dim": integer(1),
        "shear_amplitude": number(0), "streams": STREAM_LIST, "layout": text(),
        "motion_scale": number(0, lo_open=True), "twin_positives": boolean(),
    },
    "skeletonclr": _STGCN_MODEL,
    "aimclr": {**_STGCN_MODEL, "mining_epoch": integer(0), "topk": integer(1),
               "keep_prob": number(0, 1, lo_open=True), "aug_method": text(),
               "eadm_first_release_bug": boolean(), "blur_normalize": boolean(), "rotate_symmetric": boolean()},
}

SCHEMA = {"": TOP, "data": DATA, "data.synthetic": SYNTHETIC, "train": TRAIN, "probe": PROBE}


def _closest(key: str, known, prefix: str) -> str:
    match = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    if match:
        return f"a known key (did you mean {prefix + match[0]!r}?)"
    return f"a known key: one of {sorted(known)}"


def _check_section(values: dict, table: dict, prefix: str, source: Callable[[str], str]) -> list[ConfigProblem]:
    out = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        if key not in table:
            out.append(ConfigProblem(source(name), name, _closest(key, table, prefix), has_got=False))
        elif not table[key].test(value):
            out.append(ConfigProblem(source(name), name, table[key].expected, value))
    return out


def check_model(config: dict, source: Callable[[str], str] | str = "config") -> list[ConfigProblem]:
    """The problems of ``config["method"]`` and its ``model`` section (an empty list if none),
    with the rules between model keys (``queue_fraction`` only with ``queue_size: auto``;
    ``twin_positives`` and ``mask_same_instance`` not both)."""
    where = source if callable(source) else (lambda key: source)
    method = config.get("method")
    if method not in MODEL:
        return [ConfigProblem(where("method"), "method", f"one of {sorted(MODEL)}", method)]
    model = config.get("model") or {}
    if not isinstance(model, dict):
        return [ConfigProblem(where("model"), "model", "a mapping", model)]
    problems = _check_section(model, MODEL[method], "model.", where)
    if problems or method == "ascal":
        return problems
    if "queue_fraction" in model and model.get("queue_size") != "auto":
        problems.append(ConfigProblem(where("model.queue_fraction"), "model.queue_fraction",
                                      "no queue_fraction unless model.queue_size is 'auto' (it sizes that queue)",
                                      model["queue_fraction"]))
    if model.get("twin_positives") and model.get("mask_same_instance"):
        problems.append(ConfigProblem(where("model.twin_positives"), "model.twin_positives",
                                      "false while model.mask_same_instance is true (a queued key of the "
                                      "query's own id is either masked or a positive)", True))
    return problems


def check_config(config: dict, source: Callable[[str], str] | str = "config") -> list[ConfigProblem]:
    """Every problem of a full config (merged over DEFAULTS): unknown keys, types, ranges and the
    rules between keys (a queue holds at least one batch; extra performers only from the generator)."""
    where = source if callable(source) else (lambda key: source)
    problems = _check_section(config, TOP, "", where)
    for section in ("data", "train", "probe"):
        if isinstance(config.get(section), dict):
            problems += _check_section(config[section], SCHEMA[section], f"{section}.", where)
    synthetic = (config.get("data") or {}).get("synthetic")
    if isinstance(synthetic, dict):
        problems += _check_section(synthetic, SYNTHETIC, "data.synthetic.", where)
    problems += check_model(config, where)
    if problems:
        return problems
    batch = (config.get("train") or {}).get("batch_size")
    model = config.get("model") or {}
    queue_key = "K" if config.get("method") == "ascal" else "queue_size"
    queue = model.get(queue_key)   # 'auto': whole batches, at least one (skeletonclr.auto_queue_size)
    if _is_int(queue) and _is_int(batch) and queue < batch:
        problems.append(ConfigProblem(where(f"model.{queue_key}"), f"model.{queue_key}",
                                      f"a queue of at least train.batch_size = {batch} keys", queue))
    data = config.get("data") or {}
    if data.get("source") == "nucla" and "root" not in data:
        problems.append(ConfigProblem(where("data.root"), "data.root",
                                      "the N-UCLA folder for data.source 'nucla'", has_got=False))
    if data.get("unlabelled_subjects") and data.get("source") != "synthetic":
        problems.append(ConfigProblem(where("data.unlabelled_subjects"), "data.unlabelled_subjects",
                                      f"0 unless data.source is 'synthetic' (extra performers come from "
                                      f"the generator; data.source is {data.get('source')!r})",
                                      data["unlabelled_subjects"]))
    return problems


def validate(config: dict, source: Callable[[str], str] | str = "config") -> dict:
    """``config`` itself if it follows the schema, else a :class:`ConfigError` with every problem."""
    problems = check_config(config, source)
    if problems:
        raise ConfigError(problems)
    return config


def _key_paths(assignment: str) -> str:
    return assignment.partition("=")[0].strip()


def load_config(name_or_path, overrides=()) -> dict:
    """A packaged config by name (``ascal_synthetic``) or a YAML file, with ``base`` chains
    resolved, merged over :data:`DEFAULTS`, then ``overrides`` (``"a.b=value"``) applied, then
    checked against :data:`SCHEMA` (:class:`~skelcl_lib.errors.ConfigError`)."""
    path = config_path(name_or_path)
    cfg = merge(DEFAULTS, _read_yaml(path))
    for a in overrides:
        apply_override(cfg, a)
    cfg.setdefault("name", path.stem)
    set_by = {_key_paths(a): a for a in overrides}

    def source(key: str) -> str:
        for k, a in set_by.items():
            if key == k or key.startswith(k + ".") or k.startswith(key + "."):
                return f"--set {a}"
        return str(path)

    return validate(cfg, source)
