"""Layout conversion between Kinect v1 (kinect20, N-UCLA) and Kinect v2 (ntu25) skeletons."""

import numpy as np
import pytest

from skelcl_lib.data import SkeletonData, convert_layout
from skelcl_lib.data.convert import joint_map
from skelcl_lib.skeleton import get_layout


def kinect_data(n=4, t=6, m=1, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3, t, 20, m)).astype(np.float32)
    x[:, :, t - 2:] = 0                                       # zero padding at the end
    return SkeletonData(x=x, y=np.arange(n) % 2, layout="kinect20", names=[f"a0{i}_s01_e00_v01" for i in range(n)],
                        view=np.ones(n, int), splits={"xview": np.arange(n) < 2})


def test_kinect20_to_ntu25_by_name_and_back():
    d = kinect_data()
    up = convert_layout(d, "ntu25")
    k20, n25 = get_layout("kinect20"), get_layout("ntu25")
    assert up.x.shape == (4, 3, 6, 25, 1) and up.layout.name == "ntu25"
    j = lambda lay, name: lay.joint_names.index(name)
    x, u = d.x, up.x
    np.testing.assert_allclose(u[..., j(n25, "neck"), :],
                               0.5 * (x[..., j(k20, "shoulder_center"), :] + x[..., j(k20, "head"), :]), atol=1e-6)
    np.testing.assert_array_equal(u[..., j(n25, "spine_shoulder"), :], x[..., j(k20, "shoulder_center"), :])
    np.testing.assert_array_equal(u[..., j(n25, "spine_base"), :], x[..., j(k20, "hip_center"), :])
    for side in ("left", "right"):
        for made_up in ("hand_tip", "thumb"):
            np.testing.assert_array_equal(u[..., j(n25, f"{made_up}_{side}"), :], x[..., j(k20, f"hand_{side}"), :])
    for v in range(4, 20):                                    # limbs: same joint, same index
        assert k20.joint_names[v] == n25.joint_names[v]
        np.testing.assert_array_equal(u[..., v, :], x[..., v, :])
    assert (u[:, :, -2:] == 0).all()                          # padding stays zero
    back = convert_layout(up, "kinect20")
    np.testing.assert_array_equal(back.x, d.x)
    assert back.names == d.names and (back.splits["xview"] == d.splits["xview"]).all()
    assert (joint_map("ntu25", "kinect20").sum(1) == 1).all()


def test_bodies_are_padded_and_never_dropped_silently():
    d = kinect_data(m=1)
    two = convert_layout(d, "ntu25", bodies=2)
    assert two.x.shape[-1] == 2 and (two.x[..., 1] == 0).all()
    assert convert_layout(two, bodies=1).x.shape[-1] == 1      # the second body is empty: fine
    busy = SkeletonData(x=np.ones((2, 3, 4, 25, 2), np.float32), y=[0, 1], layout="ntu25", names=["p", "q"])
    with pytest.raises(ValueError, match=r"2 sequences \(first: p\) have a body beyond M=1"):
        convert_layout(busy, bodies=1)
    assert convert_layout(busy, bodies=1, drop_bodies=True).x.shape[-1] == 1
    assert convert_layout(d) is d
    with pytest.raises(ValueError, match="bodies must be"):
        convert_layout(d, bodies=0)
