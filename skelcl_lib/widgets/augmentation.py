"""Augmentation explorer: pick a sample and a transform, move its sliders, draw again, and watch
the original and the augmented skeleton side by side with the parameters that were drawn.

The logic is pure functions (tested); ``augmentation_explorer(data)`` is a thin ipywidgets
layer over them (core ipywidgets + matplotlib, so it works in JupyterLab and Colab).
Single transforms default to p = 1 here so every draw shows the effect; the presets keep the
official probabilities.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import ipywidgets as W
import numpy as np
import torch
from IPython.display import HTML

from .. import augment as A
from .. import viz
from ..skeleton import Layout, get_layout


@dataclass(frozen=True)
class Control:
    """One parameter control: kind is "float", "int", "bool" or "text"."""

    name: str
    kind: str
    default: object
    min: float = 0.0
    max: float = 1.0
    step: float = 0.01


def _p(default=1.0):
    return Control("p", "float", default, 0.0, 1.0, 0.05)


# name -> (controls, builder(values, layout) -> transform)
_SPECS = {
    "Center": ((Control("joint", "int", 1, 0, 24, 1),),
               lambda v, lay: A.Center(v["joint"])),
    "Rotate": ((Control("max_angle", "float", 30.0, 0, 180, 1), Control("other_angle", "float", 0.0, 0, 30, 0.5),
                Control("symmetric", "bool", False), _p()),
               lambda v, lay: A.Rotate(v["max_angle"], v["other_angle"], v["p"], v["symmetric"])),
    "Shear": ((Control("amplitude", "float", 1.0, 0, 2, 0.05), _p()),
              lambda v, lay: A.Shear(v["amplitude"], v["p"])),
    "TimeReverse": ((_p(),), lambda v, lay: A.TimeReverse(v["p"])),
    "TemporalCrop": ((Control("padding_ratio", "int", 6, 2, 20, 1), _p()),
                     lambda v, lay: A.TemporalCrop(v["padding_ratio"], v["p"])),
    "SpatialFlip": ((_p(),), lambda v, lay: A.SpatialFlip(v["p"], lay)),
    "GaussianNoise": ((Control("sigma", "float", 0.05, 0, 0.2, 0.005), _p()),
                      lambda v, lay: A.GaussianNoise(v["sigma"], v["p"])),
    "GaussianBlur": ((Control("sigma_low", "float", 0.1, 0.05, 5, 0.05),
                      Control("sigma_high", "float", 2.0, 0.05, 5, 0.05),
                      Control("normalize", "bool", False), _p()),
                     lambda v, lay: A.GaussianBlur(15, (v["sigma_low"], max(v["sigma_low"], v["sigma_high"])),
                                                   v["p"], v["normalize"])),
    "JointMask": ((Control("k_low", "int", 5, 0, 25, 1), Control("k_high", "int", 15, 0, 25, 1),
                   Control("n_low", "int", 20, 0, 150, 1), Control("n_high", "int", 50, 0, 150, 1), _p()),
                  lambda v, lay: A.JointMask((v["k_low"], max(v["k_low"], v["k_high"])),
                                             (v["n_low"], max(v["n_low"], v["n_high"])), v["p"])),
    "AxisMask": ((_p(),), lambda v, lay: A.AxisMask(v["p"])),
    "AS-CAL view (preset)": ((Control("strategy", "text", "subtract_randomFlip_shear"),
                              Control("blur_normalize", "bool", False),
                              Control("rotate_symmetric", "bool", False)),
                             lambda v, lay: A.ascal_view(v["strategy"], lay.spine_joint,
                                                         v["blur_normalize"], v["rotate_symmetric"])),
    "AimCLR normal (preset)": ((Control("shear_amplitude", "float", 0.5, 0, 2, 0.05),
                                Control("temporal_padding_ratio", "int", 6, 0, 20, 1)),
                               lambda v, lay: A.aimclr_normal(v["shear_amplitude"], v["temporal_padding_ratio"])),
    "AimCLR extreme (preset)": ((Control("aug_method", "text", "12345"),
                                 Control("blur_normalize", "bool", False),
                                 Control("rotate_symmetric", "bool", False)),
                                lambda v, lay: A.aimclr_extreme(0.5, 6, v["aug_method"], lay,
                                                                v["blur_normalize"], v["rotate_symmetric"])),
}


def transform_names() -> list[str]:
    """The transforms and presets the explorer offers."""
    return list(_SPECS)


def controls(name: str) -> tuple[Control, ...]:
    """The parameter controls of a transform or preset."""
    if name not in _SPECS:
        raise ValueError(f"unknown transform {name!r}; expected one of {transform_names()}")
    return _SPECS[name][0]


def default_values(name: str) -> dict:
    return {c.name: c.default for c in controls(name)}


def build_transform(name: str, values: dict | None = None, layout: Layout | str = "ntu25"):
    """The transform ``name`` with ``values`` (missing ones take their defaults)."""
    vals = {**default_values(name), **(values or {})}
    return _SPECS[name][1](vals, get_layout(layout))


def sample_options(data) -> dict[str, list]:
    """Dropdown options: ``{"class": [(text, label)], "subject": [...], "view": [...]}``."""
    labels = sorted(set(int(y) for y in data.y))
    names = data.class_names or [str(i) for i in range(max(labels) + 1)]
    out = {"class": [(f"{c}: {names[c]}", c) for c in labels]}
    for key in ("subject", "view"):
        vals = getattr(data, key)
        out[key] = [("any", None)] + ([(str(v), v) for v in sorted(set(int(v) for v in vals))]
                                      if vals is not None else [])
    return out


def find_sample(data, label: int, subject: int | None = None, view: int | None = None) -> int | None:
    """Index of the first sample with this class (and subject, view when given), else None."""
    ok = np.asarray(data.y) == label
    if subject is not None and data.subject is not None:
        ok &= np.asarray(data.subject) == subject
    if view is not None and data.view is not None:
        ok &= np.asarray(data.view) == view
    hits = np.flatnonzero(ok)
    return int(hits[0]) if len(hits) else None


def valid_part(x: np.ndarray, length: int | None = None) -> np.ndarray:
    """The sample ``x: (C, T, V, M)`` cut to its valid frames (all of it when none are zero)."""
    if length is None:
        nz = np.flatnonzero(np.abs(x).reshape(x.shape[0], x.shape[1], -1).sum(axis=(0, 2)) > 0)
        length = int(nz[-1]) + 1 if len(nz) else x.shape[1]
    return x[:, :max(int(length), 1)]


def augment_sample(x, transform, seed: int = 0):
    """Apply ``transform`` to one sample ``x: (C, T, V, M)`` with a seeded CPU generator.

    Returns ``(x_aug, params)``: x_aug a float32 numpy array of x's shape, params as drawn
    (a dict, or a list of dicts for a preset), for a batch of one.
    """
    xt = torch.as_tensor(np.asarray(x, dtype=np.float32))[None]
    g = torch.Generator().manual_seed(int(seed))
    out, params = transform(xt, generator=g, return_params=True)
    return out[0].numpy(), params


_AXES = "xyz"


def _fmt_value(key: str, v, layout: Layout) -> str:
    if not isinstance(v, torch.Tensor):
        return str(v)
    v = v[0] if v.ndim and v.shape[0] == 1 else v
    if key == "applied":
        return "yes" if bool(v) else "no (sample unchanged)"
    if key == "axis":
        return _AXES[int(v)] if int(v) < 3 else str(int(v))
    if key == "angles":
        return "x {:.2f}°, y {:.2f}°, z {:.2f}°".format(*[float(a) for a in v])
    if key == "matrix":
        return "[" + "; ".join(" ".join(f"{float(a):+.2f}" for a in row) for row in v) + "]"
    if key == "kernel":
        return f"15 taps, sum {float(v.sum()):.2f} (gain)"
    if key == "noise":
        return f"field of std {float(v.std()):.4f}"
    if key == "joints":
        idx = np.flatnonzero(v.numpy())
        return ", ".join(layout.joint_names[i] for i in idx)
    if key == "frames":
        idx = np.flatnonzero(v.numpy())
        head = ", ".join(str(i) for i in idx[:12])
        return f"{len(idx)} frames: {head}{', ...' if len(idx) > 12 else ''}"
    if v.ndim == 0:
        f = float(v)
        return str(int(f)) if not v.is_floating_point() else f"{f:.3f}"
    return str(v.tolist())


def describe_params(transform, params, layout: Layout | str = "ntu25") -> list[tuple[str, str, str]]:
    """Rows ``(transform, parameter, value)`` of the parameters drawn for sample 0."""
    lay = get_layout(layout)
    if isinstance(params, dict):
        pairs = [(transform, params)]
    else:
        pairs = list(zip(transform, params))
    rows = []
    for t, p in pairs:
        name = type(t).__name__
        if not p or list(p) == ["applied"] and bool(p["applied"][0]):
            rows.append((name, "", "deterministic" if not p else "applied"))
            continue
        for key, val in p.items():
            rows.append((name, key, _fmt_value(key, val, lay)))
        if name == "TemporalCrop":
            rows.append((name, "shift", f"{int(p['start'][0]) - int(p['pad'])} frames"))
    return rows


def params_html(rows) -> str:
    """The rows of ``describe_params`` as a small HTML table."""
    body = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td><td>{html.escape(c)}</td></tr>"
                   for a, b, c in rows)
    return ("<table style='font-size:12px'><tr><th>transform</th><th>parameter</th>"
            f"<th>drawn value</th></tr>{body}</table>")


def explore(data, index: int, name: str, values: dict | None = None, seed: int = 0):
    """One explorer step: ``(x, x_aug, rows)`` for sample ``index`` cut to its valid frames."""
    lengths = getattr(data, "lengths", None)
    x = valid_part(np.asarray(data.x[index]), None if lengths is None else lengths[index])
    t = build_transform(name, values, data.layout)
    x_aug, params = augment_sample(x, t, seed)
    return x, x_aug, describe_params(t, params, data.layout)


def augmentation_explorer(data, name: str = "AimCLR extreme (preset)", max_frames: int = 40,
                          seed: int = 0):
    """The interactive explorer (an ipywidgets box): sample pickers, transform, sliders, a
    "new random draw" button, the two skeletons animated side by side and the drawn parameters."""
    opts = sample_options(data)
    w_class = W.Dropdown(options=opts["class"], description="class")
    w_subject = W.Dropdown(options=opts["subject"], description="subject")
    w_view = W.Dropdown(options=opts["view"], description="view")
    w_name = W.Dropdown(options=transform_names(), value=name, description="transform")
    w_draw = W.Button(description="new random draw", icon="refresh")
    w_params = W.VBox()
    out = W.Output()
    state = {"seed": int(seed), "controls": {}}

    def make_controls(*_):
        made = {}
        for c in controls(w_name.value):
            style = {"description_width": "initial"}
            if c.kind == "float":
                w = W.FloatSlider(value=c.default, min=c.min, max=c.max, step=c.step,
                                  description=c.name, continuous_update=False, style=style)
            elif c.kind == "int":
                w = W.IntSlider(value=c.default, min=int(c.min), max=int(c.max), step=int(c.step),
                                description=c.name, continuous_update=False, style=style)
            elif c.kind == "bool":
                w = W.Checkbox(value=c.default, description=c.name, style=style)
            else:
                w = W.Text(value=c.default, description=c.name, continuous_update=False, style=style)
            w.observe(render, names="value")
            made[c.name] = w
        state["controls"] = made
        w_params.children = list(made.values())

    def show(*items):
        # Set the Output widget's outputs directly instead of capturing with ``with out:``:
        # the same rendering in JupyterLab and Colab, and no capture hooks for headless runners
        # (nbclient, used by the tests) to lose track of.
        out.outputs = ()
        for item in items:
            if isinstance(item, str):
                out.append_stdout(item + "\n")
            else:
                out.append_display_data(item)

    def render(*_):
        idx = find_sample(data, w_class.value, w_subject.value, w_view.value)
        if idx is None:
            show("No sample with this class, subject and view; pick another combination.")
            return
        values = {k: w.value for k, w in state["controls"].items()}
        try:
            x, x_aug, rows = explore(data, idx, w_name.value, values, state["seed"])
        except ValueError as e:           # e.g. a mistyped strategy string
            show(f"Cannot build this transform: {e}")
            return
        anim = viz.animate_side_by_side([x, x_aug], titles=["original", w_name.value],
                                        layout=data.layout, max_frames=max_frames)
        label = f"sample {idx} ({data.names[idx]})" if data.names else f"sample {idx}"
        show(HTML(viz.animation_html(anim)),
             HTML(f"<b>{label}</b>, seed {state['seed']}" + params_html(rows)))

    def new_draw(_):
        state["seed"] += 1
        render()

    def new_transform(_):
        make_controls()
        render()

    for w in (w_class, w_subject, w_view):
        w.observe(render, names="value")
    w_name.observe(new_transform, names="value")
    w_draw.on_click(new_draw)
    make_controls()
    render()
    return W.VBox([W.HBox([w_class, w_subject, w_view]), W.HBox([w_name, w_draw]), w_params, out])
