"""kNN explorer: which training sequences a method finds closest to a test sequence.

Pure functions (``knn_neighbors``, ``knn_state``, the figure builders) are tested on their
own; ``knn_explorer`` is a thin ipywidgets layer. Train = gallery, test = queries, cosine on
L2-normalised features, as in ``skelcl_lib.evaluate.knn.knn_accuracy``.
"""

from __future__ import annotations

import ipywidgets as w
import numpy as np

from .. import viz
from ..evaluate.knn import majority_vote, nearest_neighbors
from ..evaluate.metrics import confusion_matrix, per_class_accuracy
from .tsne import SkeletonPanel, new_figure, render_figure, sample_label


def knn_neighbors(features_train, features_query, k: int, metric: str = "cosine"):
    """``(indices, distances)``, each (Q, k): the k nearest training samples of every query,
    nearest first (cosine distance = 1 − cos of L2-normalised features)."""
    return nearest_neighbors(features_train, features_query, k, metric)


def knn_state(neighbor_idx, train_y, test_y, k: int, num_classes: int) -> dict:
    """Predictions, accuracy, per-class accuracy and confusion matrix of kNN with the first k
    of precomputed neighbours ``neighbor_idx: (Q, >= k)`` (majority vote, ties to the nearest)."""
    pred = majority_vote(np.asarray(train_y)[neighbor_idx[:, :k]], num_classes)
    test_y = np.asarray(test_y)
    return {"k": k, "pred": pred, "accuracy": float((pred == test_y).mean()),
            "per_class": per_class_accuracy(pred, test_y, num_classes),
            "confusion": confusion_matrix(pred, test_y, num_classes)}


def _class_names(data, num_classes: int) -> list[str]:
    return list(data.class_names) if data.class_names else [f"class {c}" for c in range(num_classes)]


def neighbors_figure(query_x, neighbor_xs, layout, query_title: str, titles, matches):
    """Query and its neighbours as 3-D skeletons (middle valid frame); a neighbour's title is
    green when its label matches the query's, red otherwise. x: (3, T, V, M) each."""
    n = 1 + len(neighbor_xs)
    ncols = min(n, 6)
    nrows = -(-n // ncols)
    fig = new_figure((2.6 * ncols, 2.8 * nrows), 72)
    panels = [(query_x, query_title, "black")] + [
        (x, t, "tab:green" if ok else "tab:red") for x, t, ok in zip(neighbor_xs, titles, matches)]
    for k, (x, title, color) in enumerate(panels):
        ax = fig.add_subplot(nrows, ncols, k + 1, projection="3d")
        viz.plot_skeleton(x, t=max(viz.valid_length(x) // 2, 0), layout=layout, ax=ax)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.set_zlabel("")
        ax.set_title(title, fontsize=8, color=color)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.9, wspace=0.05, hspace=0.15)
    return fig                             # (tight_layout is slow on 3-D axes)


def accuracy_figure(per_class, confusion, class_names, k: int, accuracy: float):
    """Per-class kNN accuracy (bars) and the row-normalised confusion matrix, side by side."""
    c = len(class_names)
    fig = new_figure((11, 4.2), 72)
    a1, a2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.2, 1]})
    a1.bar(np.arange(c), np.nan_to_num(per_class) * 100, color="tab:blue")
    a1.axhline(accuracy * 100, color="black", ls="--", lw=1, label=f"overall {accuracy * 100:.1f}%")
    a1.set_ylim(0, 100)
    a1.set_ylabel("accuracy (%)")
    a1.set_title(f"kNN (k={k}) accuracy per class", fontsize=10)
    a1.legend(fontsize=8, frameon=False)
    small = c <= 30
    a1.set_xticks(np.arange(c) if small else [])
    if small:
        a1.set_xticklabels(class_names, rotation=60, ha="right", fontsize=7)
    rows = confusion.sum(1, keepdims=True)
    im = a2.imshow(confusion / np.maximum(rows, 1), cmap="Blues", vmin=0, vmax=1)
    a2.set_title("confusion (rows: true, normalised)", fontsize=10)
    a2.set_xlabel("predicted")
    a2.set_ylabel("true")
    if small:
        a2.set_xticks(np.arange(c))
        a2.set_yticks(np.arange(c))
        a2.set_xticklabels(class_names, rotation=60, ha="right", fontsize=6)
        a2.set_yticklabels(class_names, fontsize=6)
    fig.colorbar(im, ax=a2, fraction=0.046)
    fig.tight_layout()
    return fig


def knn_explorer(train_features, train_data, test_features, test_data, k: int = 5, max_k: int = 20,
                 metric: str = "cosine", animate: bool = False):
    """Interactive kNN retrieval: pick a test query (class filter + index); see its k nearest
    training sequences with labels and distances, the per-class kNN accuracy and the confusion
    matrix. Returns a ``KNNExplorer`` (an ipywidgets VBox) whose ``set_*`` methods drive it."""
    return KNNExplorer(train_features, train_data, test_features, test_data, k=k, max_k=max_k,
                       metric=metric, animate=animate)


class KNNExplorer(w.VBox):
    """State: ``query`` (test index), ``k``, ``class_filter`` (None = all), ``neighbors``,
    ``distances``, ``stats`` (``knn_state``), ``figure`` / ``accuracy_fig`` (last figures)."""

    ALL = "all classes"
    ANIMATE_NEIGHBORS = 4      # neighbours animated next to the query (the static view shows all k)
    ANIMATE_FRAMES = 16

    def __init__(self, train_features, train_data, test_features, test_data, k=5, max_k=20,
                 metric="cosine", animate=False):
        for name, f, d in (("train_features", train_features, train_data),
                           ("test_features", test_features, test_data)):
            if len(f) != len(d):
                raise ValueError(f"knn_explorer: {name} has {len(f)} rows, its data has {len(d)} samples")
        self.train, self.test = train_data, test_data
        max_k = int(min(max(max_k, k), len(train_data)))
        # class_names (when present) fix the label space, even if some classes are absent here
        self.num_classes = max(len(test_data.class_names),
                               int(max(train_data.y.max(), test_data.y.max())) + 1)
        self.class_names = _class_names(test_data, self.num_classes)
        self.all_neighbors, self.all_distances = knn_neighbors(train_features, test_features, max_k, metric)
        self.stats = None
        self.figure = self.accuracy_fig = None
        self._members = np.arange(len(test_data))
        self.class_w = w.Dropdown(options=[(self.ALL, -1)] + [(n, c) for c, n in enumerate(self.class_names)],
                                  value=-1, description="Class")
        self.query_w = w.IntSlider(value=0, min=0, max=len(test_data) - 1, description="Query",
                                   continuous_update=False)
        self.k_w = w.IntSlider(value=min(k, max_k), min=1, max=max_k, description="k",
                               continuous_update=False)
        self.animate_w = w.Checkbox(value=animate, description="Animate")
        self.info = w.HTML()
        self.neighbors_out = SkeletonPanel()
        self.accuracy_out = w.Image(format="png")
        for wid, cls in ((self.class_w, "class"), (self.query_w, "query"), (self.k_w, "k"),
                         (self.animate_w, "animate"), (self.info, "info"),
                         (self.neighbors_out, "neighbors"), (self.accuracy_out, "accuracy")):
            wid.add_class(f"skelcl-knn-{cls}")
        self.class_w.observe(self._on_class, names="value")
        self._quiet = False                            # True while several controls change at once
        self.query_w.observe(lambda ch: self._quiet or self._show_query(), names="value")
        self.k_w.observe(lambda ch: self._update_all(), names="value")
        self.animate_w.observe(lambda ch: self._show_query(), names="value")
        super().__init__([w.HBox([self.class_w, self.query_w]), w.HBox([self.k_w, self.animate_w]),
                          self.info, self.neighbors_out, self.accuracy_out])
        self.add_class("skelcl-knn-explorer")
        self._update_all()

    # --- state
    @property
    def k(self) -> int:
        return int(self.k_w.value)

    @property
    def class_filter(self):
        return None if self.class_w.value == -1 else int(self.class_w.value)

    @property
    def query(self) -> int:
        """Test index of the query."""
        return int(self._members[self.query_w.value])

    @property
    def neighbors(self) -> np.ndarray:
        return self.all_neighbors[self.query, :self.k]

    @property
    def distances(self) -> np.ndarray:
        return self.all_distances[self.query, :self.k]

    @property
    def state(self) -> dict:
        return {"query": self.query, "k": self.k, "class_filter": self.class_filter,
                "neighbors": self.neighbors.tolist(), "distances": self.distances.tolist(),
                "prediction": int(self.stats["pred"][self.query]), "accuracy": self.stats["accuracy"]}

    # --- actions
    def set_query(self, i: int):
        """Show test sample ``i``; clears the class filter when ``i`` is outside it."""
        i = int(i)
        if not 0 <= i < len(self.test):
            raise IndexError(f"set_query: {i} is outside the test set (0..{len(self.test) - 1})")
        self._quiet = True
        try:
            if i not in self._members:
                self.class_w.value = -1
            self.query_w.value = int(np.flatnonzero(self._members == i)[0])
        finally:
            self._quiet = False
        self._show_query()

    def set_class_filter(self, c=None):
        self.class_w.value = -1 if c is None else int(c)

    def set_k(self, k: int):
        self.k_w.value = int(k)

    def set_animate(self, on=True):
        self.animate_w.value = bool(on)

    # --- drawing
    def _on_class(self, change):
        c = change["new"]
        members = np.arange(len(self.test)) if c == -1 else np.flatnonzero(self.test.y == c)
        if len(members) == 0:
            members = np.arange(len(self.test))
        self._members = members
        quiet, self._quiet = self._quiet, True
        try:
            self.query_w.value = 0
            self.query_w.max = len(members) - 1
        finally:
            self._quiet = quiet
        if not quiet:
            self._show_query()

    def _update_all(self):
        self.stats = knn_state(self.all_neighbors, self.train.y, self.test.y, self.k, self.num_classes)
        self.accuracy_fig = accuracy_figure(self.stats["per_class"], self.stats["confusion"],
                                            self.class_names, self.k, self.stats["accuracy"])
        render_figure(self.accuracy_out, self.accuracy_fig)
        self._show_query()

    def _show_query(self):
        q = self.query
        yq = int(self.test.y[q])
        names = self.class_names
        nb, dist = self.neighbors, self.distances
        titles = [f"{names[int(self.train.y[j])]}\nd={d:.3g}" for j, d in zip(nb, dist)]
        matches = [int(self.train.y[j]) == yq for j in nb]
        pred = int(self.stats["pred"][q])
        verdict = "correct" if pred == yq else "wrong"
        self.info.value = (f"<b>query</b> test #{q}: {sample_label(self.test, q)} — kNN (k={self.k}) "
                           f"predicts <b>{names[pred]}</b> ({verdict}); {sum(matches)}/{len(nb)} "
                           f"neighbours share its class. Overall kNN accuracy "
                           f"{self.stats['accuracy'] * 100:.1f}%.")
        if self.animate_w.value:                       # 3-D animations are slow: a few panels, frames
            shown = nb[:self.ANIMATE_NEIGHBORS]
            xs = [self.test.x[q]] + [self.train.x[j] for j in shown]
            captions = ["query"] + [t.replace("\n", " ") for t in titles[:len(shown)]]
            anim = viz.animate_side_by_side(xs, captions, layout=self.test.layout,
                                            max_frames=self.ANIMATE_FRAMES)
            self.figure = anim._fig
            self.neighbors_out.show_html(viz.animation_html(anim))
            return
        self.figure = neighbors_figure(self.test.x[q], [self.train.x[j] for j in nb], self.test.layout,
                                       f"query: {names[yq]}", titles, matches)
        self.neighbors_out.show_png(self.figure)
