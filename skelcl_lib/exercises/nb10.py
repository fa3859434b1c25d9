"""Checkers for notebook 10 (real datasets: NTU names and splits, epoch sizes, 3-stream fusion)."""

from __future__ import annotations

from . import Solution, verdict

# NTU-60 cross-subject training performers (from the official protocol), kept here so the checker does not
# lean on the code the learner is asked to re-derive.
_NTU60_XSUB_TRAIN = {1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38}
_NAME_FIELDS = ("setup", "camera", "subject", "replication", "action")

# name -> (setup, camera, subject, replication, action, in NTU-60 xsub train)
_NAME_CASES = {
    "S001C002P003R002A013": (1, 2, 3, 2, 13, False),             # performer 3 is a test performer
    "S017C003P008R001A060.skeleton": (17, 3, 8, 1, 60, True),   # suffix allowed, last NTU-60 action
    "S005C001P001R002A001": (5, 1, 1, 2, 1, True),
    "S018C001P008R001A061": (18, 1, 8, 1, 61, False),           # a training performer, but an
                                                                # NTU-120-only action: in no NTU-60 split
}


def _call(fn, *args):
    try:
        return fn(*args), None
    except NotImplementedError:
        return None, "Fill in the function first."
    except Exception as e:  # a learner's bug: show it as a hint, not a traceback
        return None, f"Your function raised {type(e).__name__}: {e}"


def check_ntu_name(fn) -> bool:
    """``fn(name) -> dict`` with int ``setup, camera, subject, replication, action`` and a bool
    ``ntu60_xsub_train`` (in NTU-60 *and* a training performer of its cross-subject split)."""
    if not callable(fn):
        return verdict(False, hint=f"Pass your function itself; got {type(fn).__name__}.")
    for name, want in _NAME_CASES.items():
        got, err = _call(fn, name)
        if err:
            return verdict(False, hint=err)
        if not isinstance(got, dict):
            return verdict(False, hint=f"Return a dict; for {name!r} got {type(got).__name__}.")
        missing = [k for k in (*_NAME_FIELDS, "ntu60_xsub_train") if k not in got]
        if missing:
            return verdict(False, hint=f"The dict lacks the key(s) {missing}.")
        for k, w in zip(_NAME_FIELDS, want):
            try:
                ok = int(got[k]) == w
            except (TypeError, ValueError):
                ok = False
            if not ok:
                return verdict(False, hint=f"{name}: {k} should be {w}, got {got[k]!r}. The name is "
                                           f"S<setup>C<camera>P<performer>R<replication>A<action>, 3 digits each.")
        if bool(got["ntu60_xsub_train"]) != want[5]:
            if name.startswith("S018"):
                hint = (f"{name}: performer {want[2]} is an NTU-60 xsub training performer, but action "
                        f"A061 is not part of NTU-60 (A001–A060 only), so the sample is in no NTU-60 split.")
            elif want[5]:
                hint = f"{name}: performer {want[2]} is one of the 20 NTU-60 xsub training performers."
            else:
                hint = (f"{name}: performer {want[2]} is a test performer; the training performers are "
                        f"{sorted(_NTU60_XSUB_TRAIN)}.")
            return verdict(False, hint=hint)
    return verdict(True, "Correct: fields parsed, and NTU-60 xsub train needs both A ≤ 60 and a "
                         "training performer.")


def check_iterations_per_epoch(answer, n_train: int = 40091, batch_size: int = 128,
                               drop_last: bool = True) -> bool:
    """Optimiser steps in one epoch of ``n_train`` samples at ``batch_size`` (AimCLR: drop_last)."""
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return verdict(False, hint=f"Give one whole number of iterations; got {answer!r}.")
    full, rest = divmod(n_train, batch_size)
    want = full if drop_last or not rest else full + 1
    if value == want:
        return verdict(True, f"Correct: {n_train:,} // {batch_size} = {want} full batches "
                             f"({rest} samples left out each epoch, a different {rest} every epoch "
                             f"since the order is shuffled); × 300 epochs = {300 * want:,} iterations.")
    if drop_last and rest and value == full + 1:
        return verdict(False, hint="With drop_last=True the last, incomplete batch is not used: round down.")
    if value != int(value):
        return verdict(False, hint="Iterations are whole batches: use integer division (//).")
    if value == -(-n_train // 32) or value == n_train // 32:
        return verdict(False, hint="That is AS-CAL's batch of 32; AimCLR trains with batches of 128.")
    return verdict(False, hint=f"How many complete batches of {batch_size} fit into {n_train:,} samples?")


_STREAMS = ("joint", "bone", "motion")
_WANT_WEIGHTS = {"joint": 0.6, "bone": 0.6, "motion": 0.4}


def check_fusion(weights, on) -> bool:
    """3s-AimCLR: ``weights`` = {"joint": w, "bone": w, "motion": w} and ``on`` = what is fused
    ("logits", "probabilities" or "features")."""
    if not isinstance(weights, dict) or set(weights) != set(_STREAMS):
        return verdict(False, hint=f"Give a dict with exactly the keys {list(_STREAMS)}; got {weights!r}.")
    try:
        w = {k: float(v) for k, v in weights.items()}
    except (TypeError, ValueError):
        return verdict(False, hint="The weights must be numbers.")
    what = str(on).strip().lower()
    exact = all(abs(w[k] - _WANT_WEIGHTS[k]) < 1e-9 for k in _STREAMS)
    if not exact:
        if abs(w["joint"] - 0.6) < 1e-9 and abs(w["bone"] - 0.4) < 1e-9 and abs(w["motion"] - 0.6) < 1e-9:
            return verdict(False, hint="Bone and motion are swapped: the weaker motion stream gets the smaller weight.")
        s = sum(w.values())
        if s > 0 and all(abs(w[k] / s - _WANT_WEIGHTS[k] / 1.6) < 1e-6 for k in _STREAMS):
            return verdict(False, hint="Same proportions, hence the same predictions, but the official "
                                       "scripts use the unnormalised weights: give those.")
        return verdict(False, hint="Look up the ensemble scripts in docs/methods.md §6.8 (joint, bone, motion).")
    if what.startswith("logit") or what in ("raw logits", "scores", "raw scores"):
        return verdict(True, "Correct: 0.6·joint + 0.6·bone + 0.4·motion on the raw logits of each "
                             "stream's best linear-evaluation epoch; no loss ties the streams together.")
    if "prob" in what or "softmax" in what:
        return verdict(False, hint="Right weights, but the scripts load test_result.pkl, which holds "
                                   "raw logits, not softmax probabilities.")
    if "feature" in what or "embedding" in what:
        return verdict(False, hint="Right weights, but the fusion is score-level: each stream has its own "
                                   "linear classifier, and its outputs are added.")
    return verdict(False, hint="Right weights; now say what is added: 'logits', 'probabilities' or 'features'?")


SOLUTIONS = {
    "ntu_name": Solution(
        code="""\
import re

def parse(name):
    m = re.match(r"S(\\d{3})C(\\d{3})P(\\d{3})R(\\d{3})A(\\d{3})", name)
    setup, camera, subject, replication, action = (int(g) for g in m.groups())
    return {"setup": setup, "camera": camera, "subject": subject, "replication": replication,
            "action": action, "ntu60_xsub_train": action <= 60 and subject in NTU60_XSUB_TRAIN}
""",
        note="""The library has the same logic as `parse_ntu_name(name)` and `ntu_train_mask(names, "xsub")`;
the NTU-60 test: `in_benchmark(name, "ntu60")`."""),
    "fusion": Solution(
        code="""\
my_weights = {"joint": 0.6, "bone": 0.6, "motion": 0.4}
my_target = "logits"
""",
        note="""The scripts read each stream's `test_result.pkl` (raw logits of its best linear-evaluation
epoch) and add them as 0.6·joint + 0.6·bone + 0.4·motion. No loss ties the streams together."""),
    "iterations_per_epoch": Solution(
        code="""\
iterations = 40091 // 128      # drop_last: the incomplete last batch is skipped
"""),
}
