"""t-SNE explorer: where a method puts each sequence, coloured by class, subject or view.

Pure functions (``tsne_embedding``, ``tsne_figure``, ``nearest_point``, ``color_values``) are
tested on their own; ``tsne_explorer`` is a thin ipywidgets layer over them. Figures are
pyplot-free matplotlib figures (``new_figure``) sent as PNGs to ``ipywidgets.Image``
(animations to an ``Output``), which works in JupyterLab and Colab; a point is chosen by
index, or by clicking when plotly's FigureWidget is available (``click=True``).
"""

from __future__ import annotations

import hashlib
import io
import os

import ipywidgets as w
import numpy as np

from .. import checkpoints, viz
from ..env import cache_dir
from ..evaluate.features import extract_features

# scikit-learn (t-SNE, PCA), matplotlib and plotly are imported where they are used: each takes
# seconds to import, and a notebook pays only for the views it opens.

_MEMORY: dict[str, np.ndarray] = {}   # in-process cache of embeddings, by hash


def _embedding_hash(features: np.ndarray, perplexity, seed, pca_dim, cache_key) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(features, dtype=np.float32).tobytes())
    h.update(repr((features.shape, float(perplexity), int(seed), pca_dim, cache_key)).encode())
    return h.hexdigest()[:24]


def tsne_embedding(features, perplexity: float = 30, seed: int = 0, pca_dim: int | None = 50,
                   cache_key: str | None = None, disk_cache: bool = True) -> np.ndarray:
    """2-D t-SNE of ``features: (N, D)`` -> ``(N, 2)`` float32.

    scikit-learn PCA to ``pca_dim`` dimensions first (skipped when D is already smaller), then
    TSNE(init="pca", learning_rate="auto", random_state=seed). Perplexity is clipped below N/3
    for tiny sets. Results are cached in memory and under ``skelcl_lib.env.cache_dir()/tsne``
    by a hash of the features, the settings and ``cache_key``.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"tsne_embedding: features must be (N >= 2, D), got {features.shape}")
    key = _embedding_hash(features, perplexity, seed, pca_dim, cache_key)
    if key in _MEMORY:
        return _MEMORY[key].copy()
    path = None
    if disk_cache:
        path = os.path.join(cache_dir(), "tsne", f"{key}.npy")
        if os.path.exists(path):
            emb = np.load(path, allow_pickle=False)
            _MEMORY[key] = emb
            return emb.copy()
    n, d = features.shape
    x = features
    if pca_dim and d > pca_dim and n > pca_dim:
        x = PCA(n_components=pca_dim, random_state=seed).fit_transform(x)
    perp = float(min(perplexity, max((n - 1) / 3.0, 1.0)))
    emb = TSNE(n_components=2, perplexity=perp, init="pca", learning_rate="auto",
               random_state=seed).fit_transform(x).astype(np.float32)
    _MEMORY[key] = emb
    if path is not None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp.npy"
        np.save(tmp, emb)
        os.replace(tmp, path)                          # atomic: no half-written cache file
    return emb.copy()


def nearest_point(emb, xy) -> int:
    """Index of the embedded point nearest to the 2-D position ``xy`` (e.g. a click)."""
    emb = np.asarray(emb)
    return int(np.argmin(((emb - np.asarray(xy, dtype=emb.dtype)[None]) ** 2).sum(1)))


def color_values(data, color_by: str = "class"):
    """(values (N,), legend names {value: name}) for colouring by "class", "subject" or "view"."""
    if color_by == "class":
        values = data.y
        names = {i: n for i, n in enumerate(data.class_names)} if data.class_names else {}
    elif color_by in ("subject", "view"):
        values = getattr(data, color_by)
        if values is None:
            raise ValueError(f"color_by={color_by!r}: this dataset has no {color_by} field")
        names = {}
    else:
        raise ValueError(f"color_by: expected 'class', 'subject' or 'view', got {color_by!r}")
    values = np.asarray(values)
    return values, {v: names.get(v, f"{color_by} {v}") for v in np.unique(values).tolist()}


def available_color_by(data) -> list[str]:
    return ["class"] + [c for c in ("subject", "view") if getattr(data, c, None) is not None]


def tsne_figure(emb, labels, color_by: str = "class", names: dict | list | None = None,
                selected: int | None = None, ax=None, title: str | None = None):
    """Scatter of ``emb: (N, 2)`` coloured by ``labels: (N,)``; ``selected`` marked with a star.

    ``names`` maps a label value to its legend text (a list is indexed by value). A legend is
    drawn up to 20 distinct values, a colour bar above. Returns the Figure.
    """
    import matplotlib

    emb, labels = np.asarray(emb), np.asarray(labels)
    if ax is None:
        fig = new_figure((6, 5), 80)
        ax = fig.add_subplot(1, 1, 1)
    fig = ax.figure
    values = np.unique(labels)
    if isinstance(names, (list, tuple)):
        names = {i: n for i, n in enumerate(names)}
    names = names or {}
    if len(values) <= 20:
        cmap = matplotlib.colormaps["tab10" if len(values) <= 10 else "tab20"]
        for k, v in enumerate(values):
            m = labels == v
            ax.scatter(emb[m, 0], emb[m, 1], s=9, color=cmap(k), label=str(names.get(v, v)), alpha=0.8,
                       linewidths=0)
        ax.legend(fontsize=7, markerscale=1.5, loc="best", title=color_by, title_fontsize=7, frameon=False,
                  ncol=1 if len(values) <= 10 else 2)
    else:
        sc = ax.scatter(emb[:, 0], emb[:, 1], s=9, c=labels, cmap="viridis", alpha=0.8, linewidths=0)
        fig.colorbar(sc, ax=ax, label=color_by)
    if selected is not None:
        ax.scatter(*emb[selected], s=260, marker="*", facecolor="yellow", edgecolor="black", zorder=5)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)
    return fig


# ------------------------------------------------------------------------------ widget helpers

def new_figure(figsize, dpi: int = 80):
    """A matplotlib Figure with its own Agg canvas, unknown to pyplot: the notebook's inline
    backend never sees (or flushes) it, which keeps redraws from widget callbacks intact."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")         # no bbox_inches="tight": it renders the figure twice
    return buf.getvalue()


def render_figure(target, fig, close: bool = True) -> None:
    """Show a matplotlib figure as a PNG in ``target``: an ``ipywidgets.Image`` (its value is
    replaced) or an ``ipywidgets.Output``. A pyplot figure is closed afterwards."""
    png = figure_png(fig)
    if isinstance(target, w.Image):
        target.value = png
    else:
        from IPython.display import Image, display

        target.clear_output(wait=True)
        with target:
            display(Image(png))
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)                     # a no-op for figures made by new_figure


class SkeletonPanel(w.Box):
    """A panel that shows either a PNG (an Image child) or an animation (an Output child)."""

    def __init__(self, **kw):
        self.image = w.Image(format="png")
        self.output = w.Output()
        super().__init__([self.image], **kw)

    def show_png(self, fig):
        render_figure(self.image, fig)
        self.children = [self.image]

    def show_html(self, html: str):
        from IPython.display import HTML, display

        self.output.clear_output(wait=True)
        with self.output:
            display(HTML(html))
        self.children = [self.output]


def show_sample(panel, x, layout, title: str = "", animate: bool = False) -> None:
    """One skeleton ``x: (3, T, V, M)`` in a ``SkeletonPanel``: an animation or the middle frame."""
    if animate:
        panel.show_html(viz.animation_html(viz.animate(x, layout, title=title, max_frames=30)))
        return
    fig = new_figure((3.6, 3.6), 80)
    ax = fig.add_subplot(1, 1, 1, projection="3d")
    viz.plot_skeleton(x, t=max(viz.valid_length(x) // 2, 0), layout=layout, ax=ax, title=title)
    panel.show_png(fig)


def sample_label(data, i: int) -> str:
    """"name · class · subject · view" of sample i, for captions."""
    y = int(data.y[i])
    parts = [data.names[i]] if data.names else [f"#{i}"]
    parts.append(data.class_names[y] if data.class_names else f"class {y}")
    for f in ("subject", "view"):
        v = getattr(data, f, None)
        if v is not None:
            parts.append(f"{f} {int(v[i])}")
    return " · ".join(parts)


# ------------------------------------------------------------------------------ the explorer

def checkpoint_features(data, names=None, protocol: str | None = None, directory=None,
                        batch_size: int = 256) -> dict:
    """Lazy feature entries for ``tsne_explorer``: ``{checkpoint name: {split: callable}}`` (or
    ``{name: callable}`` when ``data`` is one SkeletonData), one per shipped checkpoint.

    ``names``: which manifest entries (default: all, or those trained on ``protocol`` when it is
    given, e.g. ``"xsub"``). Each encoder is loaded (checksum verified) the first time one of its
    entries is called and its features are extracted then, so listing every checkpoint is free.
    ``data`` must be the input the checkpoints were trained on (frame50 clips of the same layout).
    """
    manifest = checkpoints.read_manifest(directory)["entries"]
    if names is None:
        names = [n for n, e in manifest.items()
                 if protocol is None or (e.get("data") or {}).get("protocol") == protocol]
    unknown = [n for n in names if n not in manifest]
    if unknown:
        raise KeyError(f"checkpoint_features: {unknown} not in the manifest; available: {sorted(manifest)}")
    loaded: dict = {}

    def make(name, d):
        def features():
            if name not in loaded:
                loaded[name] = checkpoints.load_pretrained(name, directory)[0]
            return extract_features(loaded[name], d, batch_size=batch_size)
        return features

    if isinstance(data, dict):
        return {n: {split: make(n, d) for split, d in data.items()} for n in names}
    return {n: make(n, data) for n in names}


def _subsample(n: int, max_points: int | None, seed: int) -> np.ndarray:
    if max_points is None or n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))


def tsne_explorer(features_by_method: dict, data, perplexity: float = 30, seed: int = 0,
                  color_by: str = "class", animate: bool = False, max_points: int | None = 3000,
                  click: bool = False):
    """Interactive t-SNE of each method's features of ``data`` (rows aligned with ``data``).

    Several splits: pass ``data`` as ``{split: SkeletonData}`` and each method's features as
    ``{split: (N_split, D)}``; a "Split" dropdown then switches between them.

    A feature entry may be a zero-argument callable instead of an array: it is called the first
    time that method (and split) is shown, and its result is kept. ``checkpoint_features`` builds
    such entries for the shipped checkpoints, so the method dropdown lists checkpoints that are
    loaded only when chosen.

    Controls: method, a second method to compare side by side, colour by class/subject/view,
    the selected point (index among the shown points), animate on/off. The selected sequence
    is drawn as a skeleton with its label. ``max_points`` subsamples large sets (seeded).
    Returns a ``TSNEExplorer`` (an ipywidgets VBox) whose ``set_*`` methods drive it.
    """
    return TSNEExplorer(features_by_method, data, perplexity=perplexity, seed=seed, color_by=color_by,
                        animate=animate, max_points=max_points, click=click)


class TSNEExplorer(w.VBox):
    """State: ``method``, ``compare``, ``color_by``, ``point`` (position among ``indices``),
    ``figure`` (the last scatter Figure), ``embeddings`` {method: (n, 2)}."""

    NONE = "(none)"

    def __init__(self, features_by_method, data, perplexity=30, seed=0, color_by="class",
                 animate=False, max_points=3000, click=False):
        if not features_by_method:
            raise ValueError("tsne_explorer: features_by_method is empty")
        if isinstance(data, dict):                     # several splits
            if not data:
                raise ValueError("tsne_explorer: data is an empty dict; expected {split: SkeletonData}")
            self.split_data = dict(data)
            self.split_features = {}
            for name, f in features_by_method.items():
                if not isinstance(f, dict) or set(f) != set(data):
                    raise ValueError(f"tsne_explorer: with data split into {sorted(data)}, "
                                     f"features_by_method[{name!r}] must be a dict with the same keys")
                self.split_features[name] = dict(f)
        else:
            self.split_data = {"all": data}
            self.split_features = {name: {"all": f} for name, f in features_by_method.items()}
        for name, per_split in self.split_features.items():
            for split, f in per_split.items():
                if not callable(f):
                    self._check_rows(name, split, f)
        self.perplexity, self.seed, self.max_points = perplexity, seed, max_points
        self.embeddings: dict[tuple, np.ndarray] = {}
        self.figure = None
        splits = list(self.split_data)
        self.split_w = w.Dropdown(options=splits, value=splits[0], description="Split",
                                  layout=w.Layout(display="" if len(splits) > 1 else "none"))
        self._use_split(splits[0])
        data = self.data
        methods = list(self.split_features)
        self.method_w = w.Dropdown(options=methods, value=methods[0], description="Method")
        self.compare_w = w.Dropdown(options=[self.NONE] + methods, value=self.NONE,
                                    description="Compare with")
        self.color_w = w.ToggleButtons(options=available_color_by(data), value=color_by,
                                       description="Colour by")
        self.point_w = w.BoundedIntText(value=0, min=0, max=len(self.indices) - 1, description="Point")
        self.random_w = w.Button(description="Random point", icon="random")
        self.animate_w = w.Checkbox(value=animate, description="Animate")
        self.info = w.HTML()
        self.plot_out = w.Image(format="png")
        self.skeleton_out = SkeletonPanel()
        for wid, cls in ((self.split_w, "split"), (self.method_w, "method"), (self.compare_w, "compare"),
                         (self.color_w, "color-by"), (self.point_w, "point"),
                         (self.random_w, "random"), (self.animate_w, "animate"),
                         (self.info, "info"), (self.plot_out, "plot"),
                         (self.skeleton_out, "skeleton")):
            wid.add_class(f"skelcl-tsne-{cls}")
        self._rng = np.random.default_rng(seed)
        self.click_enabled = False
        self._plotly = None
        if click:
            self._try_plotly_click()
        self.split_w.observe(lambda ch: self._change_split(ch["new"]), names="value")
        self.method_w.observe(lambda ch: self._redraw(), names="value")
        self.compare_w.observe(lambda ch: self._redraw(), names="value")
        self.color_w.observe(lambda ch: self._redraw(), names="value")
        self.point_w.observe(lambda ch: self._redraw(), names="value")
        self.animate_w.observe(lambda ch: self._show_selected(), names="value")
        self.random_w.on_click(lambda b: self.set_point(int(self._rng.integers(len(self.indices)))))
        controls = w.VBox([w.HBox([self.split_w, self.method_w, self.compare_w]), self.color_w,
                           w.HBox([self.point_w, self.random_w, self.animate_w])])
        plots = ([self._plotly] if self._plotly is not None else []) + [self.plot_out]
        super().__init__([controls, w.HBox(plots + [w.VBox([self.info, self.skeleton_out])])])
        self.add_class("skelcl-tsne-explorer")
        self._redraw()

    # --- splits
    def _use_split(self, split):
        self.split = split
        self.data = self.split_data[split]
        self.indices = _subsample(len(self.data), self.max_points, self.seed)

    def _change_split(self, split):
        self._use_split(split)
        with self.point_w.hold_trait_notifications():
            self.point_w.max = len(self.indices) - 1
            self.point_w.value = min(self.point_w.value, self.point_w.max)
        self._redraw()

    def set_split(self, split):
        self.split_w.value = split

    def _check_rows(self, name, split, f):
        if len(f) != len(self.split_data[split]):
            where = "" if split == "all" else f"[{split!r}]"
            raise ValueError(f"tsne_explorer: features_by_method[{name!r}]{where} has {len(f)} rows, "
                             f"data{where} has {len(self.split_data[split])} samples")

    def features_of(self, method, split=None) -> np.ndarray:
        """The (N, D) features of ``method`` on ``split`` (default: the shown one); a lazy entry
        is computed now, checked and kept."""
        split = self.split if split is None else split
        f = self.split_features[method][split]
        if callable(f):
            f = np.asarray(f())
            if f.ndim != 2:
                raise ValueError(f"tsne_explorer: features_by_method[{method!r}][{split!r}] returned an "
                                 f"array of shape {f.shape}; expected (N, D)")
            self._check_rows(method, split, f)
            self.split_features[method][split] = f
        return np.asarray(f)

    @property
    def features(self) -> dict:
        """{method: features} of the shown split (lazy entries are computed)."""
        return {m: self.features_of(m) for m in self.split_features}

    # --- state
    @property
    def method(self):
        return self.method_w.value

    @property
    def compare(self):
        return None if self.compare_w.value == self.NONE else self.compare_w.value

    @property
    def color_by(self):
        return self.color_w.value

    @property
    def point(self):
        return int(self.point_w.value)

    @property
    def selected_index(self) -> int:
        """Index in ``data`` of the selected point."""
        return int(self.indices[self.point])

    @property
    def state(self) -> dict:
        return {"split": self.split, "method": self.method, "compare": self.compare, "color_by": self.color_by,
                "point": self.point, "index": self.selected_index, "animate": self.animate_w.value,
                "label": int(self.data.y[self.selected_index])}

    # --- actions (each sets a control; the observers redraw)
    def set_method(self, name):
        self.method_w.value = name

    def set_compare(self, name=None):
        self.compare_w.value = self.NONE if name is None else name

    def set_color_by(self, color_by):
        self.color_w.value = color_by

    def set_point(self, i):
        self.point_w.value = int(i)

    def set_animate(self, on=True):
        self.animate_w.value = bool(on)

    def select_at(self, x, y, method=None):
        """Select the point nearest to (x, y) in ``method``'s embedding (a click)."""
        self.set_point(nearest_point(self.embedding(method or self.method), (x, y)))

    def embedding(self, method) -> np.ndarray:
        key = (self.split, method)
        if key not in self.embeddings:
            f = self.features_of(method)[self.indices]
            self.embeddings[key] = tsne_embedding(f, self.perplexity, self.seed,
                                                  cache_key=f"tsne:{self.split}:{method}")
        return self.embeddings[key]

    # --- drawing
    def _redraw(self):
        methods = [self.method] + ([self.compare] if self.compare and self.compare != self.method else [])
        values, names = color_values(self.data, self.color_by)
        values = values[self.indices]
        fig = new_figure((5.5 * len(methods), 4.8), 80)
        axes = [fig.add_subplot(1, len(methods), k + 1) for k in range(len(methods))]
        for ax, m in zip(axes, methods):
            tsne_figure(self.embedding(m), values, self.color_by, names, selected=self.point, ax=ax,
                        title=m)
        fig.tight_layout()
        self.figure = fig
        if self._plotly is not None:
            self._update_plotly(values)
        render_figure(self.plot_out, fig)
        self._show_selected()

    def _show_selected(self):
        i = self.selected_index
        label = sample_label(self.data, i)
        self.info.value = f"<b>point {self.point}</b> (sample {i}): {label}"
        show_sample(self.skeleton_out, self.data.x[i], self.data.layout, title=label.split(" · ")[1],
                    animate=self.animate_w.value)

    # --- optional plotly click (needs plotly's FigureWidget, i.e. anywidget)
    def _try_plotly_click(self):
        try:
            import plotly.graph_objects as go

            self._plotly = go.FigureWidget()
        except Exception:           # FigureWidget missing or broken (e.g. Colab): index only
            self._plotly = None
            return
        self._plotly.add_scattergl(x=[], y=[], mode="markers", marker={"size": 5})
        self._plotly.layout.update(width=520, height=460, margin={"l": 10, "r": 10, "t": 30, "b": 10})
        self._plotly.data[0].on_click(lambda trace, pts, state: pts.point_inds and
                                      self.set_point(pts.point_inds[0]))
        self.click_enabled = True

    def _update_plotly(self, values):
        emb = self.embedding(self.method)
        with self._plotly.batch_update():
            self._plotly.data[0].x, self._plotly.data[0].y = emb[:, 0], emb[:, 1]
            self._plotly.data[0].marker.color = values
            self._plotly.layout.title = f"{self.method} — click a point"
