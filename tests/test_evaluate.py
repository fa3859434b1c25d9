"""skelcl_lib.evaluate.*: kNN, linear evaluation protocols, selection honesty, ensemble, subsets,
fine-tuning copies, metrics, tables and the command line (small stand-in extractors)."""

import json
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn as nn

from skelcl_lib.data import SkeletonData
from skelcl_lib.evaluate import suite
from skelcl_lib.evaluate.features import extract_features, linear_probe, pose_statistics, raw_features, valid_lengths
from skelcl_lib.evaluate.knn import knn_accuracy, knn_predict, majority_vote, nearest_neighbors
from skelcl_lib.evaluate.metrics import confusion_matrix, ensemble, per_class_accuracy, topk_accuracy
from skelcl_lib.evaluate.protocols import (
    LINEAR_PROTOCOLS,
    _set_mode,
    class_balanced_subset,
    finetune,
    linear_evaluation,
    semi_supervised,
    stratified_split,
    supervised_from_scratch,
)
from skelcl_lib.evaluate.report import results_table
from skelcl_lib.evaluate.suite import cli, evaluate_extractor


class TinyExtractor(nn.Module):
    """Stand-in for method.feature_extractor(): x (N, 3, T, V, M) -> (N, out_dim)."""

    def __init__(self, t=4, v=25, m=1, out_dim=8, bn=False):
        super().__init__()
        self.out_dim = out_dim
        self.fc = nn.Linear(3 * t * v * m, out_dim)
        self.bn = nn.BatchNorm1d(out_dim) if bn else nn.Identity()

    def forward(self, x):
        return self.bn(self.fc(x.flatten(1)))


def make_data(n=48, num_classes=4, t=4, seed=0):
    """Random skeletons whose class shifts the coordinates, so a linear map can find it."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % num_classes
    x = rng.normal(size=(n, 3, t, 25, 1)).astype(np.float32) * 0.1
    x += (y[:, None, None, None, None] * 0.5).astype(np.float32)
    return SkeletonData(x=x, y=y, layout="ntu25", subject=np.arange(n) % 5, view=np.arange(n) % 3,
                        names=[f"s{i}" for i in range(n)])


def clusters(n, num_classes, dim=16, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(num_classes, dim)) * 3
    y = rng.integers(0, num_classes, n)
    return (means[y] + noise * rng.normal(size=(n, dim))).astype(np.float32), y


# ------------------------------------------------------------------------------ features

def test_extract_features_batches_and_mode():
    data = make_data(n=10)
    ext = TinyExtractor()
    ext.train()
    f1 = extract_features(ext, data, batch_size=3)
    f2 = extract_features(ext, data.x, batch_size=100)
    assert f1.shape == (10, 8) and f1.dtype == np.float32
    np.testing.assert_allclose(f1, f2, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        ref = ext(torch.from_numpy(data.x)).numpy()
    np.testing.assert_allclose(f1, ref, rtol=1e-5, atol=1e-6)
    assert ext.training                           # the caller's mode is restored


def test_pose_statistics_are_the_centred_mean_and_spread_over_time():
    data = make_data(n=3, t=6)
    j = data.layout.spine_joint
    c = data.x - data.x[:, :, :, j:j + 1, :]
    mean = pose_statistics(data)
    both = pose_statistics(data, spread=True)
    assert mean.shape == (3, 3 * 25 * 1) and both.shape == (3, 2 * 3 * 25 * 1)
    np.testing.assert_allclose(mean, c.mean(axis=2).reshape(3, -1), atol=1e-6)
    np.testing.assert_allclose(both[:, 75:], c.std(axis=2).reshape(3, -1), atol=1e-6)
    shifted = make_data(n=3, t=6)
    shifted.x[:] = data.x + np.array([1.0, -2.0, 3.0], dtype=np.float32)[None, :, None, None, None]
    np.testing.assert_allclose(pose_statistics(shifted, True), both, atol=1e-5)   # translation-free


def test_raw_features_preprocessing():
    data = make_data(n=6, t=8)
    data.lengths = np.array([8, 8, 5, 5, 3, 8])
    data.x[2:4, :, 5:] = 0
    data.x[4, :, 3:] = 0
    f = raw_features(data, t_resample=4)
    assert f.shape == (6, 3 * 4 * 25 * 1)
    r = f.reshape(6, 3, 4, 25, 1)
    np.testing.assert_allclose(r[:, :, :, data.layout.spine_joint, 0], 0, atol=1e-6)   # centred
    shifted = make_data(n=6, t=8)
    shifted.x[:] = data.x
    shifted.x[:] += np.array([1.0, -2.0, 3.0], dtype=np.float32)[None, :, None, None, None]
    shifted.x[2:4, :, 5:] = 0
    shifted.x[4, :, 3:] = 0
    shifted.lengths = data.lengths
    np.testing.assert_allclose(raw_features(shifted, 4), f, atol=1e-5)          # translation-free
    # resampling keeps the first and the last valid frame
    c = data.x[2] - data.x[2][:, :, 1:2, 0:1]
    np.testing.assert_allclose(r[2][:, 0], c[:, 0], atol=1e-5)
    np.testing.assert_allclose(r[2][:, -1], c[:, 4], atol=1e-5)
    np.testing.assert_array_equal(valid_lengths(data.x), [8, 8, 5, 5, 3, 8])


def test_linear_probe_separable():
    f, y = clusters(200, 5)
    assert linear_probe(f[:150], y[:150], f[150:], y[150:]) == 1.0


# ------------------------------------------------------------------------------ kNN

def brute_force_knn(train_f, train_y, test_f, k):
    a = train_f / np.linalg.norm(train_f, axis=1, keepdims=True)
    preds, neighbours = [], []
    for q in test_f:
        q = q / np.linalg.norm(q)
        d = [(1.0 - float(np.dot(q, a[j])), j) for j in range(len(a))]
        d.sort()
        nn_idx = [j for _, j in d[:k]]
        labels = [int(train_y[j]) for j in nn_idx]
        counts = Counter(labels)
        top = max(counts.values())
        preds.append(next(lab for lab in labels if counts[lab] == top))   # tie: nearest first
        neighbours.append(nn_idx)
    return np.array(preds), np.array(neighbours)


def test_knn_matches_brute_force():
    rng = np.random.default_rng(1)
    train_f, test_f = rng.normal(size=(60, 5)), rng.normal(size=(25, 5))
    train_y, test_y = rng.integers(0, 4, 60), rng.integers(0, 4, 25)
    acc = knn_accuracy(train_f, train_y, test_f, test_y, k=(1, 4, 7))
    for k in (1, 4, 7):
        pred, neighbours = brute_force_knn(train_f, train_y, test_f, k)
        assert acc[k] == pytest.approx((pred == test_y).mean())
        p2, idx, dist = knn_predict(train_f, train_y, test_f, k=k)
        np.testing.assert_array_equal(p2, pred)
        np.testing.assert_array_equal(idx, neighbours)
        assert np.all(np.diff(dist, axis=1) >= 0)


def test_knn_1nn_agrees_with_sklearn_and_euclidean():
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(2)
    train_f, test_f = rng.normal(size=(50, 6)), rng.normal(size=(20, 6))
    train_y, test_y = rng.integers(0, 3, 50), rng.integers(0, 3, 20)
    clf = KNeighborsClassifier(n_neighbors=1, metric="cosine").fit(train_f, train_y)
    acc = knn_accuracy(train_f, train_y, test_f, test_y, k=1)[1]
    assert acc == pytest.approx(clf.score(test_f, test_y))
    idx, dist = nearest_neighbors(train_f, test_f, 3, metric="euclidean")
    full = np.linalg.norm(test_f[:, None] - train_f[None], axis=2)
    np.testing.assert_array_equal(idx, np.argsort(full, axis=1)[:, :3])
    np.testing.assert_allclose(dist, np.sort(full, axis=1)[:, :3], rtol=1e-4, atol=1e-4)


def test_knn_tie_goes_to_nearest_class():
    # neighbours in order: class 2, class 1, class 1, class 2 -> 2 votes each, class 2 is nearer
    assert majority_vote(np.array([[2, 1, 1, 2]]), 3)[0] == 2
    assert majority_vote(np.array([[0, 1, 1]]), 3)[0] == 1


# ------------------------------------------------------------------------------ linear evaluation

def test_linear_evaluation_separable_reaches_100():
    f, y = clusters(400, 4)
    r = linear_evaluation(f[:300], y[:300], f[300:], y[300:], protocol="aimclr", epochs=10)
    assert r["top1"] == 1.0 and r["top5"] == 1.0
    assert r["logits"].shape == (100, 4)
    assert [h["epoch"] for h in r["history"] if "test_top1" in h] == [5, 10]   # every 5 + last
    assert r["protocol"] == "aimclr" and r["select"] == "best_test"
    r = linear_evaluation(f[:300], y[:300], f[300:], y[300:], protocol="ascal", epochs=3)
    assert r["top1"] == 1.0 and len([h for h in r["history"] if "test_top1" in h]) == 3


def test_linear_evaluation_random_labels_near_chance():
    rng = np.random.default_rng(3)
    f = rng.normal(size=(900, 16)).astype(np.float32)
    y = rng.integers(0, 4, 900)
    r = linear_evaluation(f[:600], y[:600], f[600:], y[600:], protocol="aimclr", epochs=10)
    assert r["top1"] < 0.4                        # chance is 0.25
    assert r["top1"] >= r["last_top1"]


def test_linear_evaluation_schedule_and_determinism():
    cfg = LINEAR_PROTOCOLS["ascal"]
    assert ([cfg.lr_at(e) for e in (1, 15, 16, 35, 36, 61, 76, 90)]
            == [1.0, 1.0, 0.5, 0.5, 0.25, 0.125, 0.0625, 0.0625])
    cfg = LINEAR_PROTOCOLS["aimclr"]
    assert [cfg.lr_at(e) for e in (1, 80, 81, 100)] == pytest.approx([3.0, 3.0, 0.3, 0.3])
    f, y = clusters(200, 3, noise=3.0)
    a = linear_evaluation(f[:150], y[:150], f[150:], y[150:], epochs=6, seed=5)
    b = linear_evaluation(f[:150], y[:150], f[150:], y[150:], epochs=6, seed=5)
    np.testing.assert_array_equal(a["logits"], b["logits"])
    assert a["history"] == b["history"]


def test_select_val_never_looks_at_the_test_set():
    f, y = clusters(500, 5, noise=4.0, seed=4)
    rng = np.random.default_rng(0)
    test_f, test_y = f[350:], y[350:]
    a = linear_evaluation(f[:350], y[:350], test_f, test_y, select="val", epochs=10, seed=1)
    b = linear_evaluation(f[:350], y[:350], rng.normal(size=test_f.shape), rng.permutation(test_y),
                             select="val", epochs=10, seed=1)
    assert a["best_epoch"] == b["best_epoch"]
    assert a["history"] == b["history"]
    assert all("test_top1" not in h and "val_top1" in h for h in a["history"] if h["epoch"] % 5 == 0)
    assert a["last_top1"] is None and a["select"] == "val"
    assert a["top1"] == pytest.approx(topk_accuracy(a["logits"], test_y, 1)[1])


def test_stratified_split():
    y = np.array([0] * 20 + [1] * 10 + [2] * 1)
    tr, va = stratified_split(y, 0.1, seed=0)
    assert sorted(np.concatenate([tr, va])) == list(range(31))
    assert Counter(y[va].tolist()) == {0: 2, 1: 1}


# ------------------------------------------------------------------------------ ensemble, metrics

def test_ensemble_weighted_sum_exact():
    rng = np.random.default_rng(5)
    j, b, m = (rng.normal(size=(7, 4)) for _ in range(3))
    fused = ensemble({"joint": j, "bone": b, "motion": m})
    np.testing.assert_array_equal(fused, 0.6 * j + 0.6 * b + 0.4 * m)
    np.testing.assert_array_equal(ensemble({"joint": j}, {"joint": 2.0}), 2.0 * j)
    with pytest.raises(ValueError, match="no weight"):
        ensemble({"depth": j})
    with pytest.raises(ValueError, match="shapes"):
        ensemble({"joint": j, "bone": b[:3]})


def test_topk_confusion_per_class():
    logits = np.array([[3.0, 2.0, 1.0], [0.0, 1.0, 2.0], [1.0, 3.0, 2.0], [2.0, 1.0, 0.0]])
    y = np.array([0, 1, 2, 2])
    assert topk_accuracy(logits, y, (1, 2, 5)) == {1: 0.25, 2: 0.75, 5: 1.0}
    pred = logits.argmax(1)                       # [0, 2, 1, 0]
    cm = confusion_matrix(pred, y, 4)
    expected = np.zeros((4, 4), int)
    expected[0, 0] = expected[1, 2] = expected[2, 1] = expected[2, 0] = 1
    np.testing.assert_array_equal(cm, expected)
    acc = per_class_accuracy(pred, y, 4)
    np.testing.assert_array_equal(acc[:3], [1.0, 0.0, 0.0])
    assert np.isnan(acc[3])


def test_class_balanced_subset_counts():
    y = np.array([0] * 100 + [1] * 50 + [2] * 7 + [3] * 1)
    idx = class_balanced_subset(y, 0.1, seed=0)
    assert Counter(y[idx].tolist()) == {0: 10, 1: 5, 2: 1, 3: 1}
    assert np.all(np.diff(idx) > 0)
    np.testing.assert_array_equal(idx, class_balanced_subset(y, 0.1, seed=0))
    assert not np.array_equal(idx, class_balanced_subset(y, 0.1, seed=1))
    assert Counter(y[class_balanced_subset(y, 0.01)].tolist()) == {0: 1, 1: 1, 2: 1, 3: 1}
    assert len(class_balanced_subset(y, 1.0)) == len(y)


# ------------------------------------------------------------------------------ training encoders

def _state(m):
    return {k: v.clone() for k, v in m.state_dict().items()}


@pytest.mark.parametrize("protocol", ["semi", "finetune"])
def test_semi_and_finetune_train_a_copy(protocol):
    torch.manual_seed(0)
    data = make_data()
    train, test = data.subset(np.arange(32)), data.subset(np.arange(32, 48))
    ext = TinyExtractor(bn=True)
    before = _state(ext)
    if protocol == "semi":
        r = semi_supervised(ext, train, test, fraction=0.5, epochs=1, device="cpu")
        assert r["num_labelled"] == 16 and r["protocol"] == "semi50"
    else:
        r = finetune(ext, train, test, epochs=1, device="cpu")
        assert r["num_labelled"] == 32
    for k, v in ext.state_dict().items():         # the caller's extractor is untouched
        assert torch.equal(v, before[k]), k
    trained = r["extractor"].state_dict()
    assert not torch.equal(trained["fc.weight"], before["fc.weight"])
    # official quirk: all parameters train under model.eval(), BN statistics stay frozen
    assert torch.equal(trained["bn.running_mean"], before["bn.running_mean"])
    assert r["logits"].shape == (16, 4) and 0.0 <= r["top1"] <= 1.0


def test_supervised_from_scratch_and_val_selection():
    data = make_data(n=60)
    train, test = data.subset(np.arange(40)), data.subset(np.arange(40, 60))
    r = supervised_from_scratch(lambda: TinyExtractor(bn=True), train, test, epochs=2,
                                   select="val", val_fraction=0.25, device="cpu")
    assert r["select"] == "val" and r["best_epoch"] in (1, 2) and r["last_top1"] is None
    assert not torch.equal(r["extractor"].bn.running_mean, torch.zeros(8))    # train mode: BN moved
    with pytest.raises(ValueError, match="no validation samples"):
        semi_supervised(TinyExtractor(), train, test, fraction=0.01, epochs=1, select="val")


# ------------------------------------------------------------------------------ summary, table, cli

def test_evaluate_extractor_and_results_table():
    data = make_data(n=64)
    train, test = data.subset(np.arange(48)), data.subset(np.arange(48, 64))
    out = evaluate_extractor(TinyExtractor(), train, test, protocols=("linear", "knn", "probe"),
                                epochs=2, knn_k=(1, 3), method="tiny", split="xsub")
    assert [r["protocol"] for r in out["rows"]] == ["linear (aimclr)", "kNN k=1", "kNN k=3",
                                                     "probe (logistic)"]
    assert out["train_features"].shape == (48, 8)
    rows = out["rows"] + [dict(out["rows"][0], seed=1, top1=0.5)]
    table = results_table(rows).splitlines()
    assert table[0].startswith("| method | data | protocol | top-1 (%)")
    assert len(table) == 2 + 4                    # header, rule, 4 groups (two seeds merged)
    first = table[2].split("|")
    assert first[1].strip() == "tiny" and first[3].strip() == "linear (aimclr)"
    top1 = 100 * np.array([out["rows"][0]["top1"], 0.5])
    assert first[4].strip() == f"{top1.mean():.1f} ± {top1.std(ddof=1):.1f}"
    assert "best test epoch (official)" in first[6] and first[7].strip() == "0,1"


def test_results_table_single_row_format():
    row = {"method": "ascal", "dataset": "synthetic", "split": "xview", "protocol": "kNN k=1",
           "top1": 0.6234, "top5": None, "select": "val", "seed": 0, "wall_s": 1.25}
    line = results_table([row]).splitlines()[2]
    assert line == "| ascal | synthetic/xview | kNN k=1 | 62.3 | – | validation split (honest) | 0 | 1.2 | – |"


def test_cli_with_stand_in_checkpoint(monkeypatch, tmp_path, capsys):
    data = make_data(n=40)

    class Method(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = TinyExtractor()

        def feature_extractor(self):
            return self.enc

    seen = []
    monkeypatch.setattr(suite, "load_checkpoint", lambda path: (
        seen.append(path), (Method(), {"method": "ascal", "data": {"protocol": "xsub"}}))[1])
    monkeypatch.setattr(suite, "build_data",
                        lambda config: (data.subset(np.arange(30)), data.subset(np.arange(30, 40))))
    out = tmp_path / "res.json"
    with pytest.raises(FileNotFoundError, match="checkpoint_last.pt"):
        cli(["--checkpoint", str(tmp_path)])
    (tmp_path / "checkpoint_last.pt").write_bytes(b"")
    rc = cli(["--checkpoint", str(tmp_path), "--protocol", "linear", "knn", "--epochs", "2",
                 "--out", str(out)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "linear (ascal)" in printed and "kNN k=20" in printed
    saved = json.loads(out.read_text())
    assert saved["rows"][0]["protocol"] == "linear (ascal)"
    assert saved["rows"][0]["method"] == "ascal" and saved["rows"][0]["split"] == "xsub"
    assert out.with_suffix(".md").exists() and seen[-1].name == "checkpoint_last.pt"
    saved_logits = np.load(tmp_path / "res.linear.logits.npz")
    assert saved_logits["logits"].shape == (10, 4) and list(saved_logits["y"]) == list(data.y[30:])


def test_eval_mode_training_keeps_recurrent_layers_trainable_on_cudnn():
    model = nn.Sequential(nn.LSTM(4, 8, batch_first=True), nn.BatchNorm1d(8), nn.Dropout(0.5))
    _set_mode(model, train_mode=False)
    assert model[0].training                      # cuDNN needs train mode for an RNN backward
    assert not model[1].training and not model[2].training
    _set_mode(model, train_mode=True)
    assert all(m.training for m in model)


def test_select_last_touches_the_test_set_once():
    rng = np.random.default_rng(0)
    ftr, fte = rng.normal(size=(60, 8)).astype(np.float32), rng.normal(size=(30, 8)).astype(np.float32)
    ytr, yte = rng.integers(0, 3, 60), rng.integers(0, 3, 30)
    r = linear_evaluation(ftr, ytr, fte, yte, protocol="aimclr", select="last", epochs=4)
    assert r["best_epoch"] == 4 and r["val_top1"] is None
    assert not any("test_top1" in h or "val_top1" in h for h in r["history"])
    full = linear_evaluation(ftr, ytr, fte, yte, protocol="aimclr", select="best_test", epochs=4)
    assert r["top1"] == pytest.approx(full["last_top1"])          # same training, same last epoch
    with pytest.raises(ValueError, match="select='last'"):
        linear_evaluation(ftr[:5], ytr[:5], fte, yte, select="val", epochs=1)
    assert "last epoch (fixed schedule, honest)" in results_table(
        [{"protocol": "x", "top1": 0.5, "select": "last"}])
