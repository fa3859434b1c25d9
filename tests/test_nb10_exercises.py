"""Notebook 10 checkers: each accepts the hidden solution and rejects typical wrong answers."""

import re

from skelcl_lib.data.ntu import NTU60_XSUB_TRAIN
from skelcl_lib.exercises.nb10 import check_fusion, check_iterations_per_epoch, check_ntu_name


def solution_parse(name):
    """The notebook's hidden solution to exercise 1."""
    m = re.match(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})", name)
    setup, camera, subject, replication, action = (int(g) for g in m.groups())
    return {"setup": setup, "camera": camera, "subject": subject, "replication": replication,
            "action": action, "ntu60_xsub_train": action <= 60 and subject in NTU60_XSUB_TRAIN}


def test_ntu_name_accepts_solution(capsys):
    assert check_ntu_name(solution_parse) is True
    assert "✅" in capsys.readouterr().out


def test_ntu_name_rejects_ignoring_ntu120_actions(capsys):
    def only_subject(name):
        d = solution_parse(name)
        d["ntu60_xsub_train"] = d["subject"] in NTU60_XSUB_TRAIN or d["subject"] == 45
        return d
    assert check_ntu_name(only_subject) is False
    assert "A001–A060" in capsys.readouterr().out


def test_ntu_name_rejects_wrong_fields_and_bad_functions(capsys):
    def swapped(name):
        d = solution_parse(name)
        d["camera"], d["setup"] = d["setup"], d["camera"]
        return d

    def not_done(name):
        raise NotImplementedError

    assert check_ntu_name(swapped) is False
    assert "setup should be" in capsys.readouterr().out
    assert check_ntu_name(not_done) is False
    assert "Fill in" in capsys.readouterr().out
    assert check_ntu_name(lambda n: (1, 2, 3)) is False
    assert check_ntu_name("S001") is False


def test_iterations_accepts_313(capsys):
    assert check_iterations_per_epoch(40091 // 128) is True
    assert "93,900" in capsys.readouterr().out
    assert check_iterations_per_epoch(313) is True


def test_iterations_rejects_ceil_fraction_and_ascal_batch(capsys):
    assert check_iterations_per_epoch(314) is False
    assert "drop_last" in capsys.readouterr().out
    assert check_iterations_per_epoch(40091 / 128) is False
    assert "integer division" in capsys.readouterr().out
    assert check_iterations_per_epoch(1253) is False
    assert "AS-CAL" in capsys.readouterr().out
    assert check_iterations_per_epoch("many") is False


def test_iterations_other_benchmarks():
    # docs/methods.md §6.6 scale table [analysis]: NTU-60 xview 294, NTU-120 xsub 492
    assert check_iterations_per_epoch(294, n_train=37646) is True
    assert check_iterations_per_epoch(492, n_train=63026) is True


def test_fusion_accepts_solution(capsys):
    assert check_fusion({"joint": 0.6, "bone": 0.6, "motion": 0.4}, "logits") is True
    assert "✅" in capsys.readouterr().out


def test_fusion_rejects_wrong_weights_or_target(capsys):
    assert check_fusion({"joint": 0.6, "bone": 0.4, "motion": 0.6}, "logits") is False
    assert "swapped" in capsys.readouterr().out
    assert check_fusion({"joint": 1.5, "bone": 1.5, "motion": 1.0}, "logits") is False
    assert "proportions" in capsys.readouterr().out
    assert check_fusion({"joint": 0.6, "bone": 0.6, "motion": 0.4}, "probabilities") is False
    assert "raw logits" in capsys.readouterr().out
    assert check_fusion({"joint": 0.6, "bone": 0.6, "motion": 0.4}, "features") is False
    assert check_fusion({"joint": 1 / 3, "bone": 1 / 3, "motion": 1 / 3}, "logits") is False
    assert check_fusion([0.6, 0.6, 0.4], "logits") is False
