"""Skeleton plots build on the Agg backend for both layouts; animations have one frame per valid step."""

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from skelcl_lib import viz  # noqa: E402
from skelcl_lib.skeleton import get_layout  # noqa: E402

LAYOUTS = ["ntu25", "kinect20"]


def stick_figure(layout, t=12, valid=9, two_bodies=True, seed=0):
    """x: (3, T, V, M): each joint hangs off its parent by a fixed offset, the root drifts in time."""
    lay = get_layout(layout)
    rng = np.random.default_rng(seed)
    offsets = rng.normal(scale=0.15, size=(lay.num_joints, 3))
    pose = np.zeros((lay.num_joints, 3))
    for v in _topological(lay):
        if lay.parents[v] != v:
            pose[v] = pose[lay.parents[v]] + offsets[v]
    x = np.zeros((3, t, lay.num_joints, 2), np.float32)
    drift = np.linspace(0, 0.3, valid)
    x[:, :valid, :, 0] = (pose[None] + [0, 0, 3.0] + drift[:, None, None] * [1, 0, 0]).transpose(2, 0, 1)
    if two_bodies:
        x[:, :valid, :, 1] = x[:, :valid, :, 0] + np.array([0.8, 0, 0.2])[:, None, None]
    return x


def _topological(lay):
    order, seen = [], set()

    def visit(v):
        if v in seen:
            return
        seen.add(v)
        if lay.parents[v] != v:
            visit(lay.parents[v])
        order.append(v)

    for v in range(lay.num_joints):
        visit(v)
    return order


def n_html_frames(html):
    return html.count("data:image/jpeg;base64")     # animation_html embeds JPEG frames


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_plot_skeleton_draws_every_bone_of_both_bodies(layout):
    lay = get_layout(layout)
    x = stick_figure(layout)
    ax = viz.plot_skeleton(x, t=3, layout=lay, title="t=3")
    lines = ax.get_lines()
    # (V - 1) bones plus one joint-dot line per body, for two bodies
    assert len(lines) == 2 * lay.num_joints
    xs, zs, ys = lines[0].get_data_3d()
    child, parent = lay.edges[0]
    np.testing.assert_allclose(ys, x[1, 3, [child, parent], 0])  # camera y is the vertical axis
    np.testing.assert_allclose(zs, x[2, 3, [child, parent], 0])
    assert ax.get_title() == "t=3"


def test_plot_skeleton_skips_an_absent_body_and_colours_sides():
    lay = get_layout("ntu25")
    x = stick_figure("ntu25", two_bodies=False)
    ax = viz.plot_skeleton(torch.from_numpy(x), layout="ntu25")
    lines = ax.get_lines()
    assert len(lines) == lay.num_joints  # 24 bones + 1 dot line: body 1 not drawn
    colors = {line.get_color() for line in lines[:-1]}
    assert {"tab:blue", "tab:red"} <= colors


def test_plot_skeleton_keeps_equal_axis_ranges():
    ax = viz.plot_skeleton(stick_figure("ntu25"))
    spans = [abs(np.diff(lim)[0]) for lim in (ax.get_xlim(), ax.get_ylim(), ax.get_zlim())]
    np.testing.assert_allclose(spans, spans[0], rtol=1e-6)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_plot_frames_and_layout_figures(layout):
    x = stick_figure(layout, valid=9)
    fig = viz.plot_frames(x, layout=layout, ncols=3, title="grid")
    assert len(fig.axes) == 8  # default: 8 frames spread over the 9 valid ones
    fig = viz.plot_frames(x, frames=[0, 4], layout=layout)
    assert len(fig.axes) == 2
    ax = viz.plot_layout(x, layout=layout)
    assert len(ax.texts) == get_layout(layout).num_joints


@pytest.mark.parametrize("layout", LAYOUTS)
def test_animation_html_has_one_frame_per_valid_step(layout):
    x = stick_figure(layout, t=12, valid=7)
    assert viz.valid_length(x) == 7
    html = viz.animation_html(viz.animate(x, layout=layout, title="walk"))
    assert n_html_frames(html) == 7
    assert "<script" in html


def test_animation_max_frames_subsamples_and_show_animation_returns_html():
    x = stick_figure("ntu25", t=12, valid=10)
    html = viz.animation_html(viz.animate(x, max_frames=5))
    assert n_html_frames(html) == 5
    out = viz.show_animation(x, max_frames=4)
    assert n_html_frames(out.data) == 4


def test_side_by_side_shares_limits_and_runs_the_longest_length():
    a = stick_figure("ntu25", valid=5)
    b = stick_figure("ntu25", valid=8, seed=1) + 0.5 * (stick_figure("ntu25", valid=8, seed=1) != 0)
    anim = viz.animate_side_by_side([a, b], titles=["a", "b"])
    axes = anim._fig.axes
    assert [ax.get_title() for ax in axes] == ["a", "b"]
    assert axes[0].get_xlim() == axes[1].get_xlim() and axes[0].get_zlim() == axes[1].get_zlim()
    assert n_html_frames(viz.animation_html(anim)) == 8


@pytest.mark.parametrize("layout", LAYOUTS)
def test_plotly_has_one_frame_per_valid_step_and_two_persons(layout):
    x = stick_figure(layout, t=12, valid=6)
    fig = viz.plotly_skeleton(x, layout=layout, title="p")
    assert len(fig.frames) == 6
    assert len(fig.layout.sliders[0].steps) == 6
    names = {tr.name for tr in fig.frames[0].data}
    assert any(n.startswith("body 0") for n in names) and any(n.startswith("body 1") for n in names)
    joints = [tr for tr in fig.frames[2].data if tr.name == "body 0 joints"][0]
    np.testing.assert_allclose(joints.z, x[1, 2, :, 0], rtol=1e-6)  # y up


def test_trajectories_and_training_curve(tmp_path):
    x = stick_figure("ntu25", valid=9)
    fig = viz.plot_trajectories(x, ["hand_left", 11], "ntu25")
    line = fig.axes[0].get_lines()[0]
    assert len(line.get_xdata()) == 9
    log = [{"epoch": e, "loss": 5.0 - e, "lr": 0.1} for e in range(1, 6)]
    fig = viz.plot_training_curve(log, keys=("loss", "lr"))
    assert len(fig.axes) == 2
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), [4, 3, 2, 1, 0])
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in log) + "\n")
    fig = viz.plot_training_curve(path)
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_xdata(), [1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="acc"):
        viz.plot_training_curve(log, keys=("acc",))
    path.write_text("not json\n")
    with pytest.raises(ValueError, match="line 1"):
        viz.plot_training_curve(path)


@pytest.mark.parametrize("bad", [np.zeros((3, 10, 20, 2)), np.zeros((2, 10, 25, 2)),
                                 np.zeros((1, 3, 10, 25, 2)), np.zeros(5)])
def test_bad_shapes_raise_value_error(bad):
    for fn in (viz.plot_skeleton, viz.plot_frames, viz.animate, viz.plotly_skeleton):
        with pytest.raises(ValueError, match=r"\(3, T, V=25, M\)"):
            fn(bad, layout="ntu25")
    with pytest.raises(ValueError, match="kinect20"):
        viz.plot_skeleton(np.zeros((3, 5, 25, 1)), layout="kinect20")
    with pytest.raises(ValueError, match="outside"):
        viz.plot_skeleton(stick_figure("ntu25"), t=99)


def test_category_legend_names_the_colours_scatter_categories_draws():
    names = [f"class {i}" for i in range(15)]
    values = np.array([0, 3, 14, 7])
    fig, (a, b) = plt.subplots(1, 2)
    sc = viz.scatter_categories(a, np.zeros((4, 2)), values, names)
    viz.scatter_categories(b, np.ones((4, 2)), values[::-1], names)
    leg = viz.category_legend(fig, names, title="class")
    assert [t.get_text() for t in leg.get_texts()] == names
    drawn = sc.to_rgba(values)
    handles = leg.legend_handles if hasattr(leg, "legend_handles") else leg.legendHandles
    for v, rgba in zip(values, drawn):
        np.testing.assert_allclose(handles[v].get_color(), rgba)
