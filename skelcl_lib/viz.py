"""Static and animated skeleton plots (matplotlib and plotly), trajectories and training curves.

Every function takes one sample ``x: (C=3, T, V, M)`` (numpy array or torch tensor, camera
space in metres, zero padding after the valid length, an absent body all zeros) and a layout
object or name. Camera space has y up and z pointing away from the camera, so the plots put
camera x on the horizontal axis, camera z (depth) going into the picture and camera y
vertical. Kinect's x grows to the sensor's left, so the x axis is drawn reversed: the default
view is roughly what the camera sees.
"""

from __future__ import annotations

import json
import math
import os
import pathlib

import numpy as np

from .skeleton import Layout, get_layout

# matplotlib.pyplot, plotly and IPython are imported inside the functions that draw: pyplot chooses
# a backend when it is imported, and data code that imports this module should not pay for either.

# Bone colours per body: limbs on the body's left, limbs on its right, spine and head.
DEFAULT_COLORS = (
    {"left": "tab:blue", "right": "tab:red", "center": "0.25"},
    {"left": "tab:cyan", "right": "tab:orange", "center": "0.55"},
)
DEFAULT_ELEV = 12.0
DEFAULT_AZIM = -75.0


# ----------------------------------------------------------------------------- input checks

def _to_numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor, on any device
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


def as_sample(x, layout: Layout | str = "ntu25", where: str = "x") -> np.ndarray:
    """Check and convert one sample to a numpy ``(3, T, V, M)`` array; ``(3, T, V)`` gets M = 1."""
    lay = get_layout(layout)
    x = _to_numpy(x)
    if x.ndim == 3:
        x = x[..., None]
    expected = f"one sample of shape (3, T, V={lay.num_joints}, M) for layout {lay.name}"
    if x.ndim == 5:
        raise ValueError(f"{where}: expected {expected}, got a batch of shape {x.shape}; "
                         f"pass one sample such as x[0]")
    if x.ndim != 4 or x.shape[0] != 3 or x.shape[2] != lay.num_joints or x.shape[1] < 1:
        raise ValueError(f"{where}: expected {expected}, got shape {x.shape}")
    return x


def valid_length(x) -> int:
    """Number of frames up to the last frame with a non-zero joint: ``x: (3, T, V, M)``."""
    x = _to_numpy(x)
    nonzero = np.flatnonzero(np.abs(x).reshape(x.shape[0], x.shape[1], -1).sum(axis=(0, 2)) > 0)
    return int(nonzero[-1]) + 1 if len(nonzero) else 0


def _frames_to_show(x, max_frames: int | None) -> np.ndarray:
    """Frame indices of the valid part, every k-th one when it is longer than ``max_frames``."""
    n = max(valid_length(x), 1)
    step = 1 if not max_frames or n <= max_frames else math.ceil(n / max_frames)
    return np.arange(0, n, step)


def _bone_sides(lay: Layout) -> list[tuple[int, int, str]]:
    """(child, parent, side) for every bone but the centre's self pair; side from the names."""
    out = []
    for i, p in lay.edges:
        name = lay.joint_names[i]
        side = "left" if "left" in name else "right" if "right" in name else "center"
        out.append((i, p, side))
    return out


def _present_bodies(x: np.ndarray) -> list[int]:
    """Bodies that are not all zeros over the whole sequence (at least body 0)."""
    present = [m for m in range(x.shape[3]) if np.any(x[..., m] != 0)]
    return present or [0]


def _cube_limits(xs: list[np.ndarray]) -> tuple[np.ndarray, float]:
    """Centre (3,) and half-size of a cube holding every non-zero joint of all samples."""
    pts = []
    for x in xs:
        p = x.transpose(1, 2, 3, 0).reshape(-1, 3)
        pts.append(p[np.any(p != 0, axis=1)])
    pts = np.concatenate(pts) if pts else np.zeros((0, 3))
    if len(pts) == 0:
        return np.zeros(3), 1.0
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return (lo + hi) / 2, max(float((hi - lo).max()) / 2 * 1.05, 0.05)


def _body_colors(colors, m: int) -> dict:
    if colors is None:
        return DEFAULT_COLORS[m % len(DEFAULT_COLORS)]
    if isinstance(colors, dict):
        return {**DEFAULT_COLORS[m % len(DEFAULT_COLORS)], **colors}
    return {**DEFAULT_COLORS[m % len(DEFAULT_COLORS)], **colors[m % len(colors)]}


# ----------------------------------------------------------------------------- matplotlib 3D

def _new_3d_axes(ax=None):
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax
    return plt.figure(figsize=(4.5, 4.5)).add_subplot(projection="3d")


def _style_axes(ax, centre: np.ndarray, half: float, elev: float, azim: float, labels: bool = True):
    from matplotlib.ticker import MaxNLocator

    # plot axes: (camera x, camera z, camera y); x reversed so the default view is the camera's
    ax.set_xlim(centre[0] + half, centre[0] - half)
    ax.set_ylim(centre[2] - half, centre[2] + half)
    ax.set_zlim(centre[1] - half, centre[1] + half)
    ax.set_box_aspect((1, 1, 1))
    ax.view_init(elev=elev, azim=azim)
    if labels:
        ax.set_xlabel("x (m)", labelpad=-6, fontsize=8)
        ax.set_ylabel("z, depth (m)", labelpad=-6, fontsize=8)
        ax.set_zlabel("y, up (m)", labelpad=-6, fontsize=8)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(3))
    ax.tick_params(labelsize=6, pad=-2)


class _SkeletonArtist:
    """The lines and dots of every body of one skeleton on a 3D axes; ``update(frame)`` moves them."""

    def __init__(self, ax, lay: Layout, bodies: list[int], colors=None, joint_size: float = 3.0):
        self.bodies = bodies
        self.bones = _bone_sides(lay)
        self.lines, self.dots = [], []
        for k, m in enumerate(bodies):
            c = _body_colors(colors, k)
            self.lines.append([ax.plot([], [], [], color=c[side], lw=2.0, solid_capstyle="round")[0]
                               for _, _, side in self.bones])
            self.dots.append(ax.plot([], [], [], "o", color=c["center"], ms=joint_size)[0])

    def update(self, frame: np.ndarray) -> list:
        """frame: (3, V, M) joints of one time step; a body that is all zero there is hidden."""
        for k, m in enumerate(self.bodies):
            p = frame[..., m]  # (3, V)
            show = bool(np.any(p != 0))
            for line, (i, j, _) in zip(self.lines[k], self.bones):
                if show:
                    line.set_data_3d([p[0, i], p[0, j]], [p[2, i], p[2, j]], [p[1, i], p[1, j]])
                else:
                    line.set_data_3d([], [], [])
            self.dots[k].set_data_3d(*(p[[0, 2, 1]] if show else ([], [], [])))
        return [a for ls in self.lines for a in ls] + self.dots


def plot_skeleton(x, t: int = 0, layout: Layout | str = "ntu25", ax=None, title: str | None = None,
                  elev: float = DEFAULT_ELEV, azim: float = DEFAULT_AZIM, colors=None):
    """Draw frame ``t`` of one sample ``x: (3, T, V, M)`` in 3D; returns the Axes.

    Bones come from ``layout.parents``; left limbs, right limbs and the spine have their own
    colours (``colors``: a dict with keys "left", "right", "center", or one dict per body).
    Axis limits hold the whole sequence, so frames of one sample are comparable.
    """
    lay = get_layout(layout)
    x = as_sample(x, lay)
    if not -x.shape[1] <= t < x.shape[1]:
        raise ValueError(f"plot_skeleton: frame t={t} is outside the sequence (T={x.shape[1]})")
    ax = _new_3d_axes(ax)
    _SkeletonArtist(ax, lay, _present_bodies(x), colors).update(x[:, t])
    centre, half = _cube_limits([x])
    _style_axes(ax, centre, half, elev, azim)
    if title is not None:
        ax.set_title(title, fontsize=9)
    return ax


def plot_frames(x, frames=None, layout: Layout | str = "ntu25", ncols: int = 4,
                title: str | None = None, elev: float = DEFAULT_ELEV, azim: float = DEFAULT_AZIM):
    """A grid of frames of one sequence ``x: (3, T, V, M)`` (default: 8 spread over the valid part)."""
    import matplotlib.pyplot as plt

    lay = get_layout(layout)
    x = as_sample(x, lay)
    if frames is None:
        n = max(valid_length(x), 1)
        frames = np.unique(np.linspace(0, n - 1, min(8, n)).round().astype(int))
    frames = [int(f) for f in frames]
    if not frames:
        raise ValueError("plot_frames: frames is empty; expected at least one frame index")
    ncols = max(1, min(ncols, len(frames)))
    nrows = math.ceil(len(frames) / ncols)
    fig = plt.figure(figsize=(2.6 * ncols, 2.7 * nrows + (0.3 if title else 0)))
    for k, f in enumerate(frames):
        ax = fig.add_subplot(nrows, ncols, k + 1, projection="3d")
        plot_skeleton(x, f, lay, ax=ax, title=f"frame {f}", elev=elev, azim=azim)
        ax.set_xlabel(""), ax.set_ylabel(""), ax.set_zlabel("")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_layout(x, t: int = 0, layout: Layout | str = "ntu25", ax=None, names: bool = True,
                title: str | None = None):
    """Front view (camera x, y) of body 0 at frame ``t``, every joint labelled with index and name.

    Labels sit in two columns beside the body, joined to their joint by a thin line, so the
    crowded hands stay readable.
    """
    import matplotlib.pyplot as plt

    lay = get_layout(layout)
    x = as_sample(x, lay)
    p = x[:, t, :, 0]  # (3, V)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5.5))
    colors = DEFAULT_COLORS[0]
    for i, j, side in _bone_sides(lay):
        ax.plot([p[0, i], p[0, j]], [p[1, i], p[1, j]], color=colors[side], lw=2.5)
    ax.plot(p[0], p[1], "o", color="k", ms=4)
    ax.plot(p[0, lay.center_joint], p[1, lay.center_joint], "o", color="gold", ms=10, mec="k",
            label=f"centre joint {lay.center_joint} ({lay.joint_names[lay.center_joint]})")
    cx = p[0, lay.center_joint]
    half = float(np.abs(p[0] - cx).max()) + 0.08
    height = float(np.ptp(p[1])) or 1.0
    gap = 0.05 * height
    for sign in (1, -1):  # +1: larger x, drawn on the left (x is reversed)
        joints = [v for v in range(lay.num_joints) if (p[0, v] > cx) == (sign > 0)]
        joints.sort(key=lambda v: -p[1, v])
        y_prev = np.inf
        for v in joints:
            y_text = min(p[1, v], y_prev - gap)
            y_prev = y_text
            text = f"{v} {lay.joint_names[v]}" if names else str(v)
            ax.annotate(text, (p[0, v], p[1, v]), xytext=(cx + sign * half, y_text),
                        ha="right" if sign > 0 else "left", va="center", fontsize=8,
                        arrowprops=dict(arrowstyle="-", lw=0.5, color="0.6", shrinkA=0, shrinkB=2))
    ax.set_xlim(cx + half + 0.55, cx - half - 0.55)
    ax.set_ylim(p[1].min() - gap - 0.05, p[1].max() + 0.08)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("x (m), reversed: the camera's view"), ax.set_ylabel("y, up (m)")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(title or f"{lay.name}: {lay.num_joints} joints", fontsize=10)
    return ax


# ----------------------------------------------------------------------------- animations

def _anim_figure(n: int, title: str | None, size: float = 3.6):
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(size * n, size + (0.3 if title else 0)), dpi=72)
    if title:
        fig.suptitle(title)
    return fig


def animate_side_by_side(xs: list, titles=None, layout: Layout | str = "ntu25", interval: int = 50,
                         title: str | None = None, max_frames: int | None = None,
                         elev: float = DEFAULT_ELEV, azim: float = DEFAULT_AZIM, colors=None):
    """Animate several samples next to each other with shared axis limits -> ``FuncAnimation``.

    Runs for the longest valid length; a shorter sequence holds its last valid frame.
    ``interval`` is ms per original frame; with ``max_frames`` only every k-th frame is drawn
    (and shown k times longer), which keeps the embedded HTML small.
    """
    from matplotlib.animation import FuncAnimation

    lay = get_layout(layout)
    xs = [as_sample(x, lay, where=f"xs[{k}]") for k, x in enumerate(xs)]
    if not xs:
        raise ValueError("animate_side_by_side: xs is empty; expected a list of samples (3, T, V, M)")
    if titles is not None and len(titles) != len(xs):
        raise ValueError(f"animate_side_by_side: {len(titles)} titles for {len(xs)} samples")
    lengths = [max(valid_length(x), 1) for x in xs]
    longest = xs[int(np.argmax(lengths))]
    frames = _frames_to_show(longest, max_frames)
    step = int(frames[1] - frames[0]) if len(frames) > 1 else 1
    centre, half = _cube_limits(xs)
    fig = _anim_figure(len(xs), title)
    artists = []
    for k, x in enumerate(xs):
        ax = fig.add_subplot(1, len(xs), k + 1, projection="3d")
        _style_axes(ax, centre, half, elev, azim, labels=False)
        if titles is not None:
            ax.set_title(titles[k], fontsize=9)
        artists.append(_SkeletonArtist(ax, lay, _present_bodies(x), colors))
    stamp = fig.text(0.01, 0.01, "", fontsize=8)
    fig.tight_layout()

    def draw(f):
        out = [stamp]
        for art, x, n in zip(artists, xs, lengths):
            out += art.update(x[:, min(int(f), n - 1)])
        stamp.set_text(f"frame {int(f)}")
        return out

    return FuncAnimation(fig, draw, frames=frames, interval=interval * step, blit=False)


def animate(x, layout: Layout | str = "ntu25", interval: int = 50, title: str | None = None,
            max_frames: int | None = None, elev: float = DEFAULT_ELEV, azim: float = DEFAULT_AZIM,
            colors=None):
    """Animate one sample ``x: (3, T, V, M)`` over its valid length -> ``FuncAnimation``."""
    return animate_side_by_side([x], None, layout, interval=interval, title=title,
                                max_frames=max_frames, elev=elev, azim=azim, colors=colors)


def animation_html(anim) -> str:
    """The animation as self-contained HTML/JavaScript (``to_jshtml``); closes its figure.

    Works in JupyterLab, Colab and exported HTML, with no ffmpeg; frames are embedded as JPEG.
    Closing the figure stops
    the inline backend from also showing a static copy of it.
    """
    import matplotlib.pyplot as plt

    # JPEG frames take about half the bytes of PNG ones for these line drawings
    with plt.rc_context({"animation.frame_format": "jpeg"}):
        html = anim.to_jshtml(default_mode="loop")
    plt.close(anim._fig)  # FuncAnimation keeps its figure only in this attribute
    return html


def show_animation(x, layout: Layout | str = "ntu25", interval: int = 50, title: str | None = None,
                   max_frames: int | None = 60, **kw):
    """Animate one sample, or a list of samples side by side, as an ``IPython.display.HTML``."""
    from IPython.display import HTML

    if isinstance(x, (list, tuple)):
        anim = animate_side_by_side(list(x), layout=layout, interval=interval, title=title,
                                    max_frames=max_frames, **kw)
    else:
        anim = animate(x, layout, interval=interval, title=title, max_frames=max_frames, **kw)
    return HTML(animation_html(anim))


# ----------------------------------------------------------------------------- plotly

def plotly_skeleton(x, layout: Layout | str = "ntu25", title: str | None = None,
                    max_frames: int | None = None):
    """An interactive 3D skeleton with a frame slider and a play button (plotly Figure).

    One plotly frame per valid time step (every k-th one with ``max_frames``); every body is
    drawn, with the matplotlib colours. Axes: camera x, z (depth), y (up).
    """
    import plotly.graph_objects as go

    lay = get_layout(layout)
    x = as_sample(x, lay)
    frames_idx = _frames_to_show(x, max_frames)
    bodies = _present_bodies(x)
    bones = _bone_sides(lay)
    sides = ("left", "right", "center")

    def traces(t):
        out = []
        for k, m in enumerate(bodies):
            p = x[:, t, :, m]
            show = bool(np.any(p != 0))
            c = _body_colors(None, k)
            for side in sides:
                xs, ys, zs = [], [], []
                if show:
                    for i, j, s in bones:
                        if s == side:
                            xs += [p[0, i], p[0, j], None]
                            ys += [p[2, i], p[2, j], None]
                            zs += [p[1, i], p[1, j], None]
                out.append(go.Scatter3d(x=xs, y=ys, z=zs, mode="lines", name=f"body {m} {side}",
                                        line=dict(color=_plotly_color(c[side]), width=5),
                                        showlegend=side != "center"))
            pts = p if show else np.zeros((3, 0))
            out.append(go.Scatter3d(x=pts[0], y=pts[2], z=pts[1], mode="markers",
                                    marker=dict(size=3, color=_plotly_color(c["center"])),
                                    name=f"body {m} joints", showlegend=False,
                                    text=list(lay.joint_names) if show else [],
                                    hovertemplate="%{text}<extra></extra>"))
        return out

    centre, half = _cube_limits([x])
    frames = [go.Frame(data=traces(int(t)), name=str(int(t))) for t in frames_idx]
    step_ms = 50 * (int(frames_idx[1] - frames_idx[0]) if len(frames_idx) > 1 else 1)
    play = dict(frame=dict(duration=step_ms, redraw=True), fromcurrent=True, transition=dict(duration=0))
    fig = go.Figure(data=frames[0].data, frames=frames)
    fig.update_layout(
        title=title,
        height=520,
        margin=dict(l=0, r=0, t=40 if title else 10, b=0),
        scene=dict(
            xaxis=dict(title="x (m)", range=[centre[0] + half, centre[0] - half]),
            yaxis=dict(title="z, depth (m)", range=[centre[2] - half, centre[2] + half]),
            zaxis=dict(title="y, up (m)", range=[centre[1] - half, centre[1] + half]),
            aspectmode="cube",
            camera=dict(eye=dict(x=0.4, y=-1.8, z=0.4), up=dict(x=0, y=0, z=1)),
        ),
        updatemenus=[dict(type="buttons", showactive=False, x=0.02, y=0.02, xanchor="left",
                          yanchor="bottom", buttons=[
                              dict(label="▶ play", method="animate", args=[None, play]),
                              dict(label="❚❚ pause", method="animate",
                                   args=[[None], dict(frame=dict(duration=0, redraw=False),
                                                      mode="immediate")])])],
        sliders=[dict(active=0, x=0.2, len=0.78, y=0.02, currentvalue=dict(prefix="frame "),
                      steps=[dict(label=f.name, method="animate",
                                  args=[[f.name], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                                       transition=dict(duration=0))])
                             for f in frames])],
    )
    return fig


def _plotly_color(c: str) -> str:
    from matplotlib.colors import to_hex

    return to_hex(c)


# ----------------------------------------------------------------------------- 2D plots

def plot_trajectories(x, joints, layout: Layout | str = "ntu25", body: int = 0, title: str | None = None):
    """x, y and z over the valid frames of the chosen joints (indices or names) of one body."""
    import matplotlib.pyplot as plt

    lay = get_layout(layout)
    x = as_sample(x, lay)
    if isinstance(joints, (int, str, np.integer)):
        joints = [joints]
    try:
        idx = [lay.index(j) for j in joints]
    except ValueError:
        raise ValueError(f"plot_trajectories: joints {list(joints)!r} are not all joint names of "
                         f"layout {lay.name}; expected indices 0..{lay.num_joints - 1} or names "
                         f"such as {lay.joint_names[:3]}") from None
    if any(not 0 <= v < lay.num_joints for v in idx):
        raise ValueError(f"plot_trajectories: joint indices {idx} outside 0..{lay.num_joints - 1}")
    if not 0 <= body < x.shape[3]:
        raise ValueError(f"plot_trajectories: body {body} outside 0..{x.shape[3] - 1}")
    n = max(valid_length(x), 1)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3), sharex=True)
    for c, (ax, name) in enumerate(zip(axes, ("x", "y (up)", "z (depth)"))):
        for v in idx:
            ax.plot(np.arange(n), x[c, :n, v, body], label=f"{v} {lay.joint_names[v]}")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("frame")
    axes[0].set_ylabel("metres")
    axes[-1].legend(fontsize=7, loc="best")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _read_log(log) -> list[dict]:
    if isinstance(log, (str, os.PathLike)):
        path = pathlib.Path(log)
        rows = []
        for k, line in enumerate(path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}: line {k}: expected one JSON object per line ({e.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}: line {k}: expected a JSON object, got {type(row).__name__}")
            rows.append(row)
        return rows
    rows = list(log)
    if not all(isinstance(r, dict) for r in rows):
        raise ValueError("plot_training_curve: log must be a list of per-epoch dicts or a JSON-lines path")
    return rows


def plot_training_curve(log, keys=("loss",), title: str | None = None):
    """One panel per key over epochs; ``log`` is a list of per-epoch dicts or a JSON-lines path.

    The x axis is the ``epoch`` field where rows have one, else the row number (1-based).
    """
    import matplotlib.pyplot as plt

    rows = _read_log(log)
    if isinstance(keys, str):
        keys = (keys,)
    available = sorted({k for r in rows for k in r})
    missing = [k for k in keys if not any(k in r for r in rows)]
    if not rows or missing:
        raise ValueError(f"plot_training_curve: no values for {missing or list(keys)}; "
                         f"the log has keys {available}")
    fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3), squeeze=False)
    for ax, key in zip(axes[0], keys):
        pts = [(r.get("epoch", i + 1), r[key]) for i, r in enumerate(rows) if r.get(key) is not None]
        ep, val = zip(*pts)
        ax.plot(ep, val, marker="o" if len(pts) < 30 else None, ms=3)
        ax.set_xlabel("epoch")
        ax.set_title(key, fontsize=10)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- categorical legends

def scatter_categories(ax, xy, values, names, cmap: str = "tab20", s: float = 6, **kw):
    """Scatter ``xy: (N, 2)`` coloured by integer ``values`` in ``0 .. len(names) - 1``, with the
    same colour for a value in every panel that uses the same ``names`` (for ``category_legend``)."""
    return ax.scatter(xy[:, 0], xy[:, 1], c=np.asarray(values), cmap=cmap, vmin=0,
                      vmax=max(len(names) - 1, 1), s=s, **kw)


def category_legend(target, names, cmap: str = "tab20", title: str | None = None, **kw):
    """A legend (on an Axes or a Figure) naming the colours ``scatter_categories`` gives to the
    values ``0 .. len(names) - 1``. Extra keywords go to ``legend``."""
    import matplotlib
    from matplotlib.lines import Line2D

    cm, norm = matplotlib.colormaps[cmap], matplotlib.colors.Normalize(0, max(len(names) - 1, 1))
    handles = [Line2D([], [], ls="", marker="o", markersize=5, color=cm(norm(i)), label=str(n))
               for i, n in enumerate(names)]
    kw.setdefault("fontsize", 7)
    kw.setdefault("frameon", False)
    return target.legend(handles=handles, title=title, title_fontsize=kw["fontsize"], **kw)
