"""benchmarks/stgcn_shortcut.py: performer ids from clip names, and the leave-one-out 1-NN scores."""

import numpy as np
import pytest

from datapaths import load_script

shortcut = load_script("benchmarks/stgcn_shortcut.py")


def test_performer_ids_from_ntu_names():
    assert shortcut.performer_ids(["S001C002P003R001A004", "S017C001P041R002A060"]).tolist() == [3, 41]
    with pytest.raises(ValueError, match="clip 1: name .a01_s01_e00_v01. has no field PNNN"):
        shortcut.performer_ids(["S001C001P001R001A001", "a01_s01_e00_v01"])


def test_identity_scores_tell_a_performer_code_from_an_action_code():
    action = np.array([0, 1, 0, 1])
    performer = np.array([7, 7, 8, 8])
    by_performer = np.array([[1, 0.0], [1, 0.1], [0, 1.0], [0.1, 1]])   # clips grouped by performer
    s = shortcut.identity_scores(by_performer, action, performer)
    assert s == {"action": 0.0, "performer": 1.0, "performer_other_action": 1.0}
    by_action = np.array([[1, 0.0], [0, 1.0], [1, 0.1], [0.1, 1]])      # clips grouped by action
    s = shortcut.identity_scores(by_action, action, performer)
    assert s["action"] == 1.0 and s["performer"] == 0.0
    # the other action's nearest clip: clips 2 and 3 (performer 8) lean towards each other, 0 and 1 do not
    assert s["performer_other_action"] == 0.5


def test_camera_column():
    action, performer, camera = np.array([0, 1, 0, 1]), np.array([7, 7, 8, 8]), np.array([1, 1, 2, 2])
    by_camera = np.array([[1, 0.0], [1, 0.1], [0, 1.0], [0.1, 1]])
    assert shortcut.identity_scores(by_camera, action, performer, camera)["camera"] == 1.0
    assert shortcut.name_field(["S001C002P003R001A004"], "C").tolist() == [2]
