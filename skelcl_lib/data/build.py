"""The (train, test) data a config's ``data`` section describes, and what a method may know of it."""

from __future__ import annotations

import os
import pathlib
import re
from dataclasses import replace

import numpy as np

from .dataset import SkeletonData
from .formats import load_stgcn
from .frame50 import to_frame50
from .normalize import normalize_scale
from .nucla import load_nucla
from .raw import nearest_other, raw_features
from .synthetic import SIZES, make_synthetic

# The ``data`` fields that shape what an encoder reads (applied by ``build_data`` after loading):
# a baseline on coordinates as recorded sets them all to None, a transfer copies them from the
# encoder's own config.
INPUT_FIELDS = ("preprocess", "normalize_scale")


def data_info(data) -> dict:
    """What a method builder may know about the training data (plain types, stored in checkpoints)."""
    n, c, t, v, m = data.x.shape
    return {"channels": int(c), "frames": int(t), "joints": int(v), "bodies": int(m),
            "num_train": int(n), "num_classes": int(data.num_classes), "layout": data.layout.name}


# The camera field of a sample name: NTU's ``C002`` (before ``P``), N-UCLA's trailing ``_v02``.
_CAMERA_FIELD = re.compile(r"C\d{3}(?=P\d{3})|_v\d+$")


def recording_ids(data) -> np.ndarray:
    """(N,) int64: one id per recorded performance. Clips of one performance filmed by several
    cameras at once share the id (their names agree once the camera field is removed); without
    names every clip is its own recording. No label is read."""
    if not data.names:
        return np.arange(len(data.y), dtype=np.int64)
    keys = [_CAMERA_FIELD.sub("", str(n)) for n in data.names]
    index = {k: i for i, k in enumerate(dict.fromkeys(keys))}
    return np.array([index[k] for k in keys], dtype=np.int64)


INSTANCE_IDS = ("sample", "recording", "label", "raw_clusters", "raw_neighbours")

# ``raw_clusters``: how many k-means clusters of the raw-coordinate features (label-free)
RAW_CLUSTERS = 60


def raw_cluster_ids(data, clusters: int = RAW_CLUSTERS, seed: int = 0) -> np.ndarray:
    """(N,) int64: k-means clusters (scikit-learn, ``n_init=4``) of the standardised raw-coordinate
    features (:func:`~skelcl_lib.data.raw.raw_features`) of ``data``; no label is read."""
    from sklearn.cluster import KMeans          # only this option needs scikit-learn here
    f = raw_features(data)
    f = (f - f.mean(0)) / (f.std(0) + 1e-6)
    k = min(int(clusters), len(f))
    return KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(f).astype(np.int64)


# ``raw_neighbours``: how many raw-coordinate nearest neighbours of a clip count as the same clip
# (the default of ``data.raw_neighbours``)
RAW_NEIGHBOURS = 1


def raw_neighbour_ids(data, neighbours: int = RAW_NEIGHBOURS) -> np.ndarray:
    """(N, 1 + k) int64: each clip's position in ``data``, then the positions of its k nearest
    other clips (:func:`~skelcl_lib.data.raw.nearest_other`: cosine distance of the
    raw-coordinate features, the raw kNN baseline's metric); no label is read."""
    nbr = nearest_other(raw_features(data), neighbours)
    return np.concatenate([np.arange(len(nbr), dtype=np.int64)[:, None], nbr], axis=1)


def instance_ids(data, kind: str = "sample", neighbours: int = RAW_NEIGHBOURS) -> np.ndarray:
    """(N,) int64, the ids the training batches carry (``data.instance_ids``): ``sample``, the
    position of each clip in ``data``; ``recording``, :func:`recording_ids` (camera twins share
    one); ``label``, the class label: a *diagnostic that reads the labels*, not self-supervision
    (with ``model.mask_same_instance`` no queued key of the query's class is a negative: an
    oracle for false negatives; with ``model.twin_positives`` every such key is a positive: a
    supervised contrastive bound); ``raw_clusters``, label-free: the k-means cluster
    (:data:`RAW_CLUSTERS` clusters) of each clip's raw-coordinate features
    (:func:`raw_cluster_ids`), so that with ``model.twin_positives`` clips whose coordinates are
    alike are positives; ``raw_neighbours``, label-free: (N, 1 + ``neighbours``), the
    clip's position then those of its nearest clips in raw coordinates
    (:func:`raw_neighbour_ids`), so that with ``model.twin_positives`` the queued keys of a clip's
    raw neighbours are positives (and with ``model.mask_same_instance`` they are no negatives).
    Methods that must recognise a clip again read them (a MoCo queue's own-id mask)."""
    if kind == "label":
        return np.asarray(data.y, dtype=np.int64).copy()
    if kind == "raw_clusters":
        return raw_cluster_ids(data)
    if kind == "raw_neighbours":
        return raw_neighbour_ids(data, neighbours)
    if kind == "sample":
        return np.arange(len(data.y), dtype=np.int64)
    if kind == "recording":
        return recording_ids(data)
    raise ValueError(f"config field 'data.instance_ids': expected one of {list(INSTANCE_IDS)}, got {kind!r}")


def spread(n: int, k: int) -> np.ndarray:
    """k indices evenly spaced over range(n) (all of them when k >= n)."""
    if k >= n:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, k).round().astype(int))


def build_data(config: dict):
    """(train, test) SkeletonData for ``config["data"]``.

    sources: ``synthetic`` (``seed`` + ``make_synthetic`` keyword arguments under ``synthetic``,
    split by ``protocol``); ``stgcn`` (``root`` + ``train_data``/``train_label``/``test_data``/
    ``test_label`` file names); ``nucla`` (``root``, split by ``protocol``).
    ``preprocess: frame50`` applies AimCLR's ``to_frame50`` to both parts; then
    ``normalize_scale: L`` (metres; not in either official code) scales every clip so that its
    performer's torso is L long (``data.normalize.normalize_scale``).
    ``max_train`` / ``max_test`` keep n samples of each part, evenly spaced over it (for quick
    runs; files sorted by class, as N-UCLA's are, still give every class).
    ``unlabelled_subjects`` does not change these parts: it only adds clips to the set pretraining
    reads (:func:`build_pretrain_set`).
    """
    d = config["data"]
    source = d.get("source")
    if source == "synthetic":
        train, test = make_synthetic(seed=d.get("seed", 0), **(d.get("synthetic") or {})).split(d["protocol"])
    elif source == "stgcn":
        root = pathlib.Path(os.path.expanduser(str(d.get("root", "."))))
        train = load_stgcn(root / d.get("train_data", "train_data.npy"), root / d.get("train_label", "train_label.pkl"))
        test = load_stgcn(root / d.get("test_data", "val_data.npy"), root / d.get("test_label", "val_label.pkl"))
    elif source == "nucla":
        if not d.get("root"):
            raise ValueError("config field 'data.root': expected the N-UCLA folder, got nothing")
        try:
            data = load_nucla(os.path.expanduser(str(d["root"])))
        except FileNotFoundError as e:
            raise FileNotFoundError(f"config field 'data.root': {e}. Put the folder there, or point "
                                    "data.root at it (--set data.root=PATH)") from None
        train, test = data.split(d["protocol"])
    else:
        raise ValueError(f"config field 'data.source': expected 'synthetic', 'stgcn' or 'nucla', got {source!r}")
    if d.get("max_train"):
        train = train.subset(spread(len(train), int(d["max_train"])))
    if d.get("max_test"):
        test = test.subset(spread(len(test), int(d["max_test"])))
    train, test = prepare(train, d), prepare(test, d)
    return train, test


def prepare(part, d: dict):
    """One part of the data as the encoder reads it: ``d["preprocess"]`` (``frame50``: AimCLR's
    ``to_frame50``), then ``d["normalize_scale"]`` (see :func:`build_data`); ``d`` is a
    config's ``data`` section."""
    if d.get("preprocess") == "frame50":
        part = replace(part, x=to_frame50(np.asarray(part.x), part.lengths, part.layout),
                       # every clip now has 50 valid frames (its valid frames resampled)
                       lengths=None if part.lengths is None else np.where(part.lengths > 0, 50, 0))
    elif d.get("preprocess") not in (None, "none"):
        raise ValueError(f"config field 'data.preprocess': expected null or 'frame50', got {d['preprocess']!r}")
    torso = d.get("normalize_scale")
    if torso not in (None, False):
        try:
            part = replace(part, x=normalize_scale(part.x, part.layout, torso))
        except ValueError as e:
            raise ValueError(f"config field 'data.normalize_scale': {e}") from None
    return part


def build_pretrain_set(config: dict, train):
    """The clips self-supervised pretraining reads: ``train`` (the labelled training split from
    :func:`build_data`) itself when ``data.unlabelled_subjects`` is 0 (the default, as in the
    official code); else ``train`` followed by every clip (all cameras and replications) of that
    many further performers of the embedded generator, prepared as ``train`` is.

    The generator draws each performer and each performance from its own (seed, subject) stream,
    so the extra performers are those ``make_synthetic`` would add after the labelled ones
    (subjects n+1 .. n+N for n labelled performers), and the labelled subjects, splits and
    clips stay exactly the standard ones. ``max_train`` does not cut the extra clips. Their
    names (``...P041...``) are new performers, so neither ``sample`` nor ``recording`` instance
    ids (:func:`instance_ids`) of the result ever join an extra clip to a labelled one. Their
    labels are kept but no method reads them; probes and evaluations use :func:`build_data`."""
    d = config["data"]
    extra = d.get("unlabelled_subjects") or 0
    if isinstance(extra, bool) or not isinstance(extra, int) or extra < 0:
        raise ValueError(f"config field 'data.unlabelled_subjects': expected an integer >= 0, got {extra!r}")
    if extra == 0:
        return train
    if d.get("source") != "synthetic":
        raise ValueError(f"config field 'data.unlabelled_subjects': expected 0 unless data.source is "
                         f"'synthetic' (extra performers come from the generator), got {extra!r} with "
                         f"data.source {d.get('source')!r}")
    options = dict(d.get("synthetic") or {})
    size = options.get("size", "full")
    if size not in SIZES:
        raise ValueError(f"config field 'data.synthetic.size': expected one of {sorted(SIZES)}, got {size!r}")
    labelled = options.get("num_subjects") or SIZES[size][0]
    data = make_synthetic(seed=d.get("seed", 0), **{**options, "num_subjects": labelled + extra})
    unlabelled = prepare(data.subset(data.subject > labelled), d)
    return SkeletonData.concat([train, unlabelled])
