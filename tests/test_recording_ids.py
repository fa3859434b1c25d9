"""Camera twins: clips of one performance filmed by several cameras share a recording id."""

import types

import numpy as np

from skelcl_lib.data.build import recording_ids


def _data(names):
    return types.SimpleNamespace(names=names, y=np.zeros(len(names), dtype=np.int64))


def test_ntu_names_differing_only_in_the_camera_share_an_id():
    names = ["S001C001P001R001A001", "S001C002P001R001A001", "S001C003P001R001A001",
             "S001C001P001R002A001", "S001C001P002R001A001"]
    ids = recording_ids(_data(names))
    assert ids[0] == ids[1] == ids[2]
    assert len(set(ids[2:].tolist())) == 3          # replication and performer make new recordings


def test_nucla_view_suffix_is_the_camera_field():
    ids = recording_ids(_data(["a01_s01_e00_v01", "a01_s01_e00_v02", "a01_s01_e01_v01"]))
    assert ids[0] == ids[1] != ids[2]


def test_without_names_every_clip_is_its_own_recording():
    np.testing.assert_array_equal(recording_ids(_data([])), np.arange(0))
    d = types.SimpleNamespace(names=[], y=np.zeros(4, dtype=np.int64))
    np.testing.assert_array_equal(recording_ids(d), np.arange(4))
