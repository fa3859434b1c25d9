"""Every exercise checker accepts its notebook's hidden solution (the code ``show_solution``
displays) and rejects the plausible wrong answers the exercise is about, with a hint that
names the mistake."""

from __future__ import annotations

import importlib
import math
import pathlib
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from skelcl_lib import viz
from skelcl_lib.data import make_synthetic
from skelcl_lib.data.ntu import NTU60_XSUB_TRAIN
from skelcl_lib.exercises import Solution, show_solution
from skelcl_lib.methods.aimclr import simam_attention
from skelcl_lib.skeleton import NTU25, get_layout

# the names the notebooks have imported when a solution runs
NOTEBOOK_NAMES = dict(np=np, torch=torch, F=F, math=math, re=re, viz=viz, NTU25=NTU25,
                      get_layout=get_layout, simam_attention=simam_attention,
                      NTU60_XSUB_TRAIN=NTU60_XSUB_TRAIN)
NOTEBOOKS = [f"nb{i:02d}" for i in range(11)]
ROOT = pathlib.Path(__file__).resolve().parents[1]


def module(nb):
    return importlib.import_module(f"skelcl_lib.exercises.{nb}")


def run_solution(nb, name):
    """The namespace after running the solution ``name`` of notebook module ``nb``."""
    ns = dict(NOTEBOOK_NAMES)
    exec(module(nb).SOLUTIONS[name].code, ns)
    return ns


def rejects(capsys, checker, *args, hint):
    """The checker says no, and its message contains ``hint`` (case-insensitive)."""
    assert checker(*args) is False
    out = capsys.readouterr().out
    assert "❌" in out and hint.lower() in out.lower(), out
    return out


def accepts(capsys, checker, *args):
    assert checker(*args) is True, capsys.readouterr().out
    assert "✅" in capsys.readouterr().out


# ----------------------------------------------------------------------------- every checker has a test


def test_every_checker_and_solution_is_tested():
    """Each ``check_*`` has a test below, and each notebook's solutions are listed here."""
    source = open(__file__).read()
    for nb in NOTEBOOKS:
        mod = module(nb)
        for name in dir(mod):
            if name.startswith("check_"):
                assert f"def test_{name}" in source or f"def test_{name}_" in source, f"{nb}.{name} untested"
        for name in mod.SOLUTIONS:
            assert f'"{nb}", "{name}"' in source, f"{nb} solution {name!r} not run by a test"


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_each_notebook_shows_its_solutions_through_show_solution(nb):
    """Every solution of a notebook is shown by ``show_solution`` in that notebook, and no code
    solution is left in a markdown block or runs in a visible cell."""
    src = next((ROOT / "notebooks" / "src").glob(f"{nb[2:]}_*.py")).read_text()
    shown = re.findall(r'show_solution\(SOLUTIONS, "(\w+)"\)', src)
    assert sorted(shown) == sorted(module(nb).SOLUTIONS)
    for block in re.findall(r"<details>.*?</details>", src, re.S):   # discussion answers only
        assert "```python" not in block
    assert not re.search(r"def \w+_solution\(", src)


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_solutions_are_hidden_until_asked(nb):
    sols = module(nb).SOLUTIONS
    assert sols and all(isinstance(s, Solution) and (s.code or s.note) for s in sols.values())
    for name, sol in sols.items():
        view = show_solution(sols, name)
        assert "<details>" in view._repr_html_() and "<details open>" not in view._repr_html_()
        assert "hidden" in repr(view) and sol.code.strip()[:20] not in repr(view)
        opened = show_solution(sols, name, reveal=True)
        assert sol.code.strip() in repr(opened) and "<details open>" in opened._repr_html_()
    with pytest.raises(KeyError, match="no solution named"):
        show_solution(sols, "no such exercise")


# ----------------------------------------------------------------------------- notebook 00


def test_check_batch_shape(capsys):
    from skelcl_lib.exercises.nb00 import check_batch_shape
    accepts(capsys, check_batch_shape, run_solution("nb00", "batch_shape")["batch_shape"])
    rejects(capsys, check_batch_shape, (8, 300, 25, 3, 2), hint="order")
    rejects(capsys, check_batch_shape, (8, 3, 300, 50), hint="5 axes")
    rejects(capsys, check_batch_shape, (8, 3, 300, 75, 1), hint="separate axes")


def test_check_frame_vector_size(capsys):
    from skelcl_lib.exercises.nb00 import check_frame_vector_size
    accepts(capsys, check_frame_vector_size, run_solution("nb00", "frame_vector_size")["frame_vector_size"])
    rejects(capsys, check_frame_vector_size, 75, hint="one person")
    rejects(capsys, check_frame_vector_size, 50, hint="3 coordinates")


def test_check_center_joint(capsys):
    from skelcl_lib.exercises.nb00 import check_center_joint
    accepts(capsys, check_center_joint, run_solution("nb00", "center_joint")["center_index"])
    rejects(capsys, check_center_joint, 21, hint="1-based")
    rejects(capsys, check_center_joint, 1, hint="spine_shoulder")


# ----------------------------------------------------------------------------- notebook 01


def test_check_to_sample(capsys):
    from skelcl_lib.exercises.nb01 import check_to_sample
    accepts(capsys, check_to_sample, run_solution("nb01", "to_sample")["to_sample"])
    rejects(capsys, check_to_sample, lambda f: f.reshape(3, f.shape[0], f.shape[1], 1), hint="scrambled")
    rejects(capsys, check_to_sample, lambda f: f.transpose(2, 0, 1), hint="expected shape")
    rejects(capsys, check_to_sample, lambda f: f.transpose(2, 1, 0)[..., None], hint="expected shape")


def test_check_bone_lengths(capsys):
    from skelcl_lib.exercises.nb01 import check_bone_lengths
    accepts(capsys, check_bone_lengths, run_solution("nb01", "bone_lengths")["my_bone_lengths"])
    rejects(capsys, check_bone_lengths,                      # norm over the wrong axis
            lambda x, lay: np.linalg.norm(x - x[:, :, list(lay.parents)], axis=-1), hint="expected lengths")
    rejects(capsys, check_bone_lengths,                      # joint distance to the centre, not bones
            lambda x, lay: np.linalg.norm(x - x[:, :, [lay.center_joint]], axis=0), hint="parents")


def _facing(sample, *, plane=2, signed=False, swap=False, padding=False, radians=False):
    """The solution's facing angle with one deliberate mistake switched on."""
    n = sample.shape[1] if padding else viz.valid_length(sample)
    a, b = (NTU25.left_shoulder, NTU25.right_shoulder) if not swap else (NTU25.right_shoulder,
                                                                         NTU25.left_shoulder)
    s = sample[:, :n, b, 0] - sample[:, :n, a, 0]
    ang = np.arctan2(s[plane] if signed else np.abs(s[plane]), s[0])
    return float(np.median(ang if radians else np.degrees(ang)))


@pytest.fixture(scope="module")
def tiny():
    return make_synthetic(seed=0, size="tiny")


@pytest.fixture(scope="module")
def full():
    return make_synthetic(seed=0, size="full")


def _check_facing_angle_cases(capsys, data):
    from skelcl_lib.exercises.nb01 import check_facing_angle
    accepts(capsys, check_facing_angle, run_solution("nb01", "facing_angle")["facing_angle"], data)
    rejects(capsys, check_facing_angle, lambda x: _facing(x, radians=True), data, hint="radians")
    rejects(capsys, check_facing_angle, lambda x: _facing(x, swap=True), data, hint="LEFT shoulder to the RIGHT")
    rejects(capsys, check_facing_angle, lambda x: _facing(x, padding=True), data, hint="padding")
    rejects(capsys, check_facing_angle, lambda x: _facing(x, plane=1), data, hint="(x, y)")
    rejects(capsys, check_facing_angle, lambda x: _facing(x, signed=True), data, hint="negative")


def _check_guess_camera_cases(capsys, data):
    from skelcl_lib.exercises.nb01 import check_guess_camera
    ns = run_solution("nb01", "facing_angle")
    accepts(capsys, check_guess_camera, ns["guess_camera"], data)
    rejects(capsys, check_guess_camera, lambda x, r: 2, data, hint="replication 1")
    rejects(capsys, check_guess_camera, lambda x, r: ns["guess_camera"](x, r + 1), data, hint="faces camera")
    return ns


def test_check_facing_angle_smoke_size(capsys, tiny):
    _check_facing_angle_cases(capsys, tiny)


def test_check_guess_camera_smoke_size(capsys, tiny):
    _check_guess_camera_cases(capsys, tiny)


@pytest.mark.slow
def test_check_facing_angle_full_size(capsys, full):
    _check_facing_angle_cases(capsys, full)


@pytest.mark.slow
def test_check_guess_camera_full_size(capsys, full):
    ns = _check_guess_camera_cases(capsys, full)
    from skelcl_lib.exercises.nb01 import check_guess_camera

    def ignores_replication(x, r):             # always assumes replication 1 (camera 2 faced)
        return ns["guess_camera"](x, 1)
    rejects(capsys, check_guess_camera, ignores_replication, full, hint="one replication parity")


# ----------------------------------------------------------------------------- notebook 02


def test_check_rotation_matrix(capsys):
    from skelcl_lib.exercises.nb02 import check_rotation_matrix
    rot = run_solution("nb02", "rotation_matrix")["rotation_matrix"]
    accepts(capsys, check_rotation_matrix, rot)
    rejects(capsys, check_rotation_matrix, lambda a, t: rot(a, t).T, hint="transpose")
    rejects(capsys, check_rotation_matrix, lambda a, t: rot(a, t) * 1.1, hint="not orthogonal")
    rejects(capsys, check_rotation_matrix, lambda a, t: rot(a, math.degrees(t)), hint="expected")


def test_check_indistinguishable(capsys):
    from skelcl_lib.exercises.nb02 import check_indistinguishable
    accepts(capsys, check_indistinguishable, run_solution("nb02", "indistinguishable")["answer"])
    rejects(capsys, check_indistinguishable, "SpatialFlip", hint="left and right")
    rejects(capsys, check_indistinguishable, "Shear", hint="first and what happens last")


def test_check_crop_indices(capsys):
    from skelcl_lib.exercises.nb02 import check_crop_indices
    accepts(capsys, check_crop_indices, run_solution("nb02", "crop_indices")["crop_indices"])

    def reflect(T, pad, start):               # numpy 'reflect': the edge frame is not repeated
        return [abs(j - pad) if j < pad else (2 * (T - 1) - (j - pad) if j - pad >= T else j - pad)
                for j in range(start, start + T)]

    def no_shift(T, pad, start):              # forgets the padding offset
        return [min(max(j, 0), T - 1) for j in range(start, start + T)]
    rejects(capsys, check_crop_indices, reflect, hint="repeats the edge frame")
    rejects(capsys, check_crop_indices, no_shift, hint="expected")


# ----------------------------------------------------------------------------- notebook 03


def test_check_info_nce(capsys):
    from skelcl_lib.exercises.nb03 import check_info_nce
    fn = run_solution("nb03", "info_nce")["my_info_nce"]
    accepts(capsys, check_info_nce, fn)

    def no_grad(q, k, queue, tau):
        with torch.no_grad():
            return fn(q, k, queue, tau)

    def summed(q, k, queue, tau):
        return fn(q, k, queue, tau) * len(q)

    def no_tau(q, k, queue, tau):
        return fn(q, k, queue, 1.0)

    def positive_last(q, k, queue, tau):
        logits = torch.cat([q @ queue.T, (q * k).sum(1, keepdim=True)], 1) / tau
        return F.cross_entropy(logits, torch.zeros(len(q), dtype=torch.long))
    rejects(capsys, check_info_nce, no_grad, hint="no_grad")
    rejects(capsys, check_info_nce, lambda *a: fn(*a).item(), hint="train nothing")
    rejects(capsys, check_info_nce, summed, hint="average over the batch")
    rejects(capsys, check_info_nce, no_tau, hint="divide by tau")
    rejects(capsys, check_info_nce, positive_last, hint="column 0")


def test_check_positive_probability(capsys):
    from skelcl_lib.exercises.nb03 import check_positive_probability
    accepts(capsys, check_positive_probability, run_solution("nb03", "positive_probability")["answer"])
    rejects(capsys, check_positive_probability, torch.tensor([0.9, 0.5, 0.1]).softmax(0)[0].item(),
            hint="tau = 1")
    rejects(capsys, check_positive_probability,
            -math.log(torch.tensor([9.0, 5.0, 1.0]).softmax(0)[0].item()), hint="-log p")


def test_check_collapse_loss(capsys):
    from skelcl_lib.exercises.nb03 import check_collapse_loss
    accepts(capsys, check_collapse_loss, run_solution("nb03", "collapse_loss")["answer"])
    rejects(capsys, check_collapse_loss, math.log(4096), hint="positive *and* the K negatives")
    rejects(capsys, check_collapse_loss, 0.0, hint="equal logits")


# ----------------------------------------------------------------------------- notebook 04


def test_check_cae(capsys):
    from skelcl_lib.exercises.nb04 import check_cae
    accepts(capsys, check_cae, run_solution("nb04", "cae")["my_cae"])
    rejects(capsys, check_cae, lambda h: h.sum(1), hint="sum")
    rejects(capsys, check_cae, lambda h: h[:, -1], hint="last hidden state")
    rejects(capsys, check_cae, lambda h: h.mean(2), hint="dim 1")


def test_check_momentum_update(capsys):
    from skelcl_lib.exercises.nb04 import check_momentum_update
    accepts(capsys, check_momentum_update, run_solution("nb04", "momentum_update")["my_momentum_update"])

    def without_no_grad(key, query, m):
        for pk, pq in zip(key.parameters(), query.parameters()):
            pk.mul_(m).add_(pq, alpha=1 - m)

    @torch.no_grad()
    def swapped(key, query, m):
        for pk, pq in zip(key.parameters(), query.parameters()):
            pk.mul_(1 - m).add_(pq, alpha=m)

    @torch.no_grad()
    def rebinds(key, query, m):               # assigns to the loop variable: nothing changes
        for pk, pq in zip(key.parameters(), query.parameters()):
            pk = m * pk + (1 - m) * pq        # noqa: F841
    rejects(capsys, check_momentum_update, without_no_grad, hint="torch.no_grad()")
    rejects(capsys, check_momentum_update, swapped, hint="swapped")
    rejects(capsys, check_momentum_update, rebinds, hint="did not change")


def test_check_half_life(capsys):
    from skelcl_lib.exercises.nb04 import check_half_life
    accepts(capsys, check_half_life, run_solution("nb04", "half_life")["answer"])
    rejects(capsys, check_half_life, 1 / (1 - 0.999), hint="time constant")
    rejects(capsys, check_half_life, 0.5 / 0.001, hint="α^n = 0.5")


# ----------------------------------------------------------------------------- notebook 05


def test_check_enqueue(capsys):
    from skelcl_lib.exercises.nb05 import check_enqueue
    accepts(capsys, check_enqueue, run_solution("nb05", "enqueue")["my_enqueue"])

    def no_pointer_wrap(queue, ptr, keys):
        rows = (ptr + torch.arange(len(keys))) % len(queue)
        queue[rows] = keys
        return ptr + len(keys)

    def copies(queue, ptr, keys):             # writes into a copy: the queue stays as it was
        queue = queue.clone()
        queue[(ptr + torch.arange(len(keys))) % len(queue)] = keys
        return (ptr + len(keys)) % len(queue)

    def no_wrap(queue, ptr, keys):
        queue[ptr:ptr + len(keys)] = keys[: len(queue) - ptr]
        return (ptr + len(keys)) % len(queue)
    rejects(capsys, check_enqueue, no_pointer_wrap, hint="pointer must wrap")
    rejects(capsys, check_enqueue, copies, hint="in place")
    rejects(capsys, check_enqueue, no_wrap, hint="(ptr + arange(B)) % K")


def test_check_key_lifetime(capsys):
    from skelcl_lib.exercises.nb05 import check_key_lifetime
    accepts(capsys, check_key_lifetime, run_solution("nb05", "key_lifetime")["answer"])
    rejects(capsys, check_key_lifetime, 16384, hint="*keys*")
    rejects(capsys, check_key_lifetime, 32 / 16384, hint="how many steps")


def test_check_queue_fraction(capsys):
    from skelcl_lib.exercises.nb05 import check_queue_fraction
    accepts(capsys, check_queue_fraction, run_solution("nb05", "queue_fraction")["answer"])
    rejects(capsys, check_queue_fraction, 100 * 16384 / 40091, hint="not a percentage")
    rejects(capsys, check_queue_fraction, 40091 / 16384, hint="divide the queue size")


# ----------------------------------------------------------------------------- notebook 06


def test_check_knn_1(capsys):
    from skelcl_lib.exercises.nb06 import check_knn_1
    fn = run_solution("nb06", "knn_1")["my_knn_1"]
    accepts(capsys, check_knn_1, fn)

    def euclidean(train_f, train_y, test_f, test_y):
        d = ((test_f[:, None] - train_f[None]) ** 2).sum(-1)
        return float((train_y[d.argmin(1)] == test_y).mean())

    def least_similar(train_f, train_y, test_f, test_y):     # argmin of a similarity
        a = train_f / np.linalg.norm(train_f, axis=1, keepdims=True)
        b = test_f / np.linalg.norm(test_f, axis=1, keepdims=True)
        return float((train_y[(b @ a.T).argmin(1)] == test_y).mean())
    rejects(capsys, check_knn_1, euclidean, hint="Euclidean")
    rejects(capsys, check_knn_1, lambda *a: 100 * fn(*a), hint="percentage")
    rejects(capsys, check_knn_1, least_similar, hint="sim.argmax(1)")


def test_check_best_epoch(capsys):
    from skelcl_lib.exercises.nb06 import check_best_epoch
    accepts(capsys, check_best_epoch, run_solution("nb06", "best_epoch")["best_epoch"])

    def last_of_ties(history):
        best = max(reversed(history), key=lambda r: r["test_top1"])
        return best["test_top1"], best["epoch"]
    rejects(capsys, check_best_epoch, lambda h: (h[-1]["test_top1"], h[-1]["epoch"]), hint="last epoch")
    rejects(capsys, check_best_epoch, last_of_ties, hint="earliest")


# ----------------------------------------------------------------------------- notebook 07


def test_check_normalized_adjacency(capsys):
    from skelcl_lib.exercises.nb07 import check_normalized_adjacency
    accepts(capsys, check_normalized_adjacency, run_solution("nb07", "normalized_adjacency")["normalized_adjacency"])

    def rows(layout):
        a = get_layout(layout).adjacency(self_loops=True)
        return a / a.sum(axis=1, keepdims=True)

    def no_self_loops(layout):
        a = get_layout(layout).adjacency(self_loops=False)
        return a / a.sum(axis=0, keepdims=True)
    rejects(capsys, check_normalized_adjacency, rows, hint="row sums")
    rejects(capsys, check_normalized_adjacency, no_self_loops, hint="self-loops")
    rejects(capsys, check_normalized_adjacency, lambda n: get_layout(n).adjacency(self_loops=True),
            hint="0/1 adjacency")


def test_check_simam_attention(capsys):
    from skelcl_lib.exercises.nb07 import check_simam_attention
    fn = run_solution("nb07", "simam_attention")["attention"]
    accepts(capsys, check_simam_attention, fn)

    def biased(f):
        d = (f - f.mean(dim=(-2, -1), keepdim=True)) ** 2
        return torch.sigmoid(d / (4 * (d.mean(dim=(-2, -1), keepdim=True) + 1e-4)) + 0.5)

    def no_sigmoid(f):
        return torch.logit(fn(f)) - 0.5 if False else fn(f) - 0.5

    def over_channels(f):                     # statistics over (C, T') instead of (T', V)
        d = (f - f.mean(dim=(1, 2), keepdim=True)) ** 2
        var = d.sum(dim=(1, 2), keepdim=True) / (f.shape[1] * f.shape[2] - 1)
        return torch.sigmoid(d / (4 * (var + 1e-4)) + 0.5)
    rejects(capsys, check_simam_attention, biased, hint="T'V − 1")
    rejects(capsys, check_simam_attention, no_sigmoid, hint="sigmoid")
    rejects(capsys, check_simam_attention, over_channels, hint="over (T', V)")


def test_check_eadm_joint_mask(capsys):
    from skelcl_lib.exercises.nb07 import check_eadm_joint_mask
    fn = run_solution("nb07", "eadm_joint_mask")["joint_mask"]
    accepts(capsys, check_eadm_joint_mask, fn)

    def wrong_axis(f, keep_prob):             # averages over channels and joints: one value per frame
        return (simam_attention(f).mean(dim=(1, 3)) < keep_prob).float()
    rejects(capsys, check_eadm_joint_mask, lambda f, kp: 1 - fn(f, kp), hint="inverted")
    rejects(capsys, check_eadm_joint_mask, wrong_axis, hint="expected shape")
    rejects(capsys, check_eadm_joint_mask, lambda f, kp: fn(f, 1 - kp), hint="compare with keep_prob")


# ----------------------------------------------------------------------------- notebook 08


def test_check_d3m(capsys):
    from skelcl_lib.exercises.nb08 import check_d3m
    fn = run_solution("nb08", "d3m")["d3m"]
    accepts(capsys, check_d3m, fn)

    def under_no_grad(l_n, l_e, l_ed):
        with torch.no_grad():
            return fn(l_n, l_e, l_ed)

    def teacher_not_detached(l_n, l_e, l_ed):
        p_n = torch.softmax(l_n, dim=1)
        h = lambda lg: -(p_n * torch.log_softmax(lg, dim=1)).sum(1).mean()   # noqa: E731
        return 0.5 * (h(l_e) + h(l_ed))

    def students_detached(l_n, l_e, l_ed):
        return fn(l_n, l_e.detach(), l_ed.detach()) + 0 * l_n.sum()
    rejects(capsys, check_d3m, under_no_grad, hint="no gradient")
    rejects(capsys, check_d3m, lambda *a: fn(*a).detach(), hint="train nothing")
    rejects(capsys, check_d3m, teacher_not_detached, hint="detach the teacher")
    rejects(capsys, check_d3m, students_detached, hint="no gradient reaches l_e")
    rejects(capsys, check_d3m, lambda *a: 2 * fn(*a), hint="twice")


def test_check_nnm_mask(capsys):
    from skelcl_lib.exercises.nb08 import check_nnm_mask
    fn = run_solution("nb08", "nnm_mask")["mask_fn"]
    accepts(capsys, check_nnm_mask, fn)

    def no_offset(logits_list, topk):         # indices of the queue columns without the +1
        m = torch.zeros_like(logits_list[0])
        m[:, 0] = 1
        for lg in logits_list:
            m.scatter_(1, lg[:, 1:].topk(topk, dim=1).indices, 1.0)
        return m
    rejects(capsys, check_nnm_mask, lambda lst, k: fn(lst[:1], k), hint="normal query only")
    rejects(capsys, check_nnm_mask, no_offset, hint="+1 offset")
    rejects(capsys, check_nnm_mask, lambda lst, k: fn(lst, k) * (torch.arange(lst[0].shape[1]) > 0),
            hint="column 0")


def test_check_ensemble(capsys):
    from skelcl_lib.exercises.nb08 import check_ensemble
    accepts(capsys, check_ensemble, run_solution("nb08", "ensemble")["fuse"])
    rejects(capsys, check_ensemble, lambda j, m, b: 0.6 * j + 0.4 * b + 0.6 * m, hint="swapped")
    rejects(capsys, check_ensemble, lambda j, m, b: sum(0.6 * torch.tensor(x).softmax(1).numpy() for x in (j, b))
            + 0.4 * torch.tensor(m).softmax(1).numpy(), hint="raw logits")


# ----------------------------------------------------------------------------- notebook 09


def test_check_knn_vote(capsys):
    from skelcl_lib.exercises.nb09 import check_knn_vote
    accepts(capsys, check_knn_vote, run_solution("nb09", "knn_vote")["knn_vote"])
    rejects(capsys, check_knn_vote, lambda y, c: np.array([np.bincount(r, minlength=c).argmax() for r in y]),
            hint="smallest class")
    rejects(capsys, check_knn_vote, lambda y, c: y[:, 0], hint="1-NN")


def test_check_honest_number(capsys):
    from skelcl_lib.exercises.nb09 import check_honest_number
    accepts(capsys, check_honest_number, run_solution("nb09", "honest_number")["honest_number"])
    rejects(capsys, check_honest_number, lambda v, t: (max(t), int(np.argmax(t)) + 1), hint="best *test*")
    rejects(capsys, check_honest_number, lambda v, t: (t[int(np.argmax(v))], int(np.argmax(v))),
            hint="count from 1")
    rejects(capsys, check_honest_number,
            lambda v, t: (t[len(v) - 1 - int(np.argmax(v[::-1]))], len(v) - int(np.argmax(v[::-1]))),
            hint="earliest")


def test_check_label_budget(capsys):
    from skelcl_lib.exercises.nb09 import check_label_budget
    accepts(capsys, check_label_budget, run_solution("nb09", "label_budget")["label_budget"])

    def floor(y, fraction):
        c, n = np.unique(y, return_counts=True)
        return {int(a): int(fraction * b) for a, b in zip(c, n)}

    def ceil(y, fraction):
        c, n = np.unique(y, return_counts=True)
        return {int(a): math.ceil(fraction * b) for a, b in zip(c, n)}
    rejects(capsys, check_label_budget, floor, hint="never below 1")
    rejects(capsys, check_label_budget, ceil, hint="round(2.5)")


# ----------------------------------------------------------------------------- notebook 10 (more in test_nb10_exercises.py)


def test_check_ntu_name(capsys):
    from skelcl_lib.exercises.nb10 import check_ntu_name
    parse = run_solution("nb10", "ntu_name")["parse"]
    accepts(capsys, check_ntu_name, parse)
    rejects(capsys, check_ntu_name, lambda n: {**parse(n), "ntu60_xsub_train": parse(n)["subject"] in NTU60_XSUB_TRAIN},
            hint="A001–A060")
    rejects(capsys, check_ntu_name, lambda n: {**parse(n), "subject": parse(n)["subject"] - 1}, hint="subject should be")


def test_check_fusion(capsys):
    from skelcl_lib.exercises.nb10 import check_fusion
    ns = run_solution("nb10", "fusion")
    accepts(capsys, check_fusion, ns["my_weights"], ns["my_target"])
    rejects(capsys, check_fusion, ns["my_weights"], "probabilities", hint="raw logits")
    rejects(capsys, check_fusion, {"joint": 0.6, "bone": 0.4, "motion": 0.6}, "logits", hint="swapped")


def test_check_iterations_per_epoch(capsys):
    from skelcl_lib.exercises.nb10 import check_iterations_per_epoch
    accepts(capsys, check_iterations_per_epoch, run_solution("nb10", "iterations_per_epoch")["iterations"])
    rejects(capsys, check_iterations_per_epoch, math.ceil(40091 / 128), hint="drop_last")
    rejects(capsys, check_iterations_per_epoch, 40091 / 128, hint="integer division")
