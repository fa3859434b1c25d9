"""t-SNE and kNN explorers: pure functions, the embedding cache, and the widgets driven by
setting their controls (Agg backend, no browser)."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import sklearn.manifold  # noqa: E402,F401  (loaded before threadpool_limits, so the limit reaches its OpenMP)

from skelcl_lib.data import SkeletonData  # noqa: E402
from skelcl_lib.evaluate.knn import knn_accuracy  # noqa: E402
from skelcl_lib.widgets import knn, tsne  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELCL_CACHE", str(tmp_path / "cache"))
    from skelcl_lib import viz

    # to_jshtml renders every frame (slow); viz's own tests cover it. Keep the figure closed.
    monkeypatch.setattr(viz, "animation_html", fake_animation_html)
    # PNG encoding of 3-D figures dominates the widget tests; test_render_figure covers it
    for mod in (tsne, knn):
        monkeypatch.setattr(mod, "render_figure", fake_render_figure)
    tsne._MEMORY.clear()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):       # OpenMP threads in TSNE crawl on a busy, shared CPU
        yield
    import matplotlib.pyplot as plt

    plt.close("all")


def fake_animation_html(anim) -> str:
    import matplotlib.pyplot as plt

    anim._draw_was_started = True            # silences matplotlib's "deleted without rendering"
    plt.close(anim._fig)
    return "<animation>"


RENDERED = []
REAL_RENDER = tsne.render_figure


def fake_render_figure(out, fig, close=True):
    import matplotlib.pyplot as plt

    RENDERED.append(fig)
    plt.close(fig)


def make_data(n=30, num_classes=3, t=6, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % num_classes
    x = rng.normal(size=(n, 3, t, 25, 1)).astype(np.float32) * 0.2
    x[:, 1] += 1.0
    x[:, 2] += 3.0
    return SkeletonData(x=x, y=y, layout="ntu25", subject=np.arange(n) % 4, view=np.arange(n) % 3,
                        names=[f"S001C00{i % 3 + 1}P{i:03d}R001A00{y[i] + 1}" for i in range(n)],
                        class_names=["wave", "kick", "sit"])


def features_for(data, noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    means = np.eye(data.num_classes, 8) * 3
    return (means[data.y] + noise * rng.normal(size=(len(data), 8))).astype(np.float32)


# ------------------------------------------------------------------------------ t-SNE

def test_tsne_cache_hit_returns_identical_embedding(monkeypatch):
    f = features_for(make_data())
    e1 = tsne.tsne_embedding(f, perplexity=5, seed=0, cache_key="m")
    assert e1.shape == (30, 2) and e1.dtype == np.float32


    def boom(*a, **k):
        raise AssertionError("TSNE recomputed despite the cache")

    monkeypatch.setattr(sklearn.manifold, "TSNE", boom)
    np.testing.assert_array_equal(tsne.tsne_embedding(f, perplexity=5, seed=0, cache_key="m"), e1)
    tsne._MEMORY.clear()                                   # now from disk
    np.testing.assert_array_equal(tsne.tsne_embedding(f, perplexity=5, seed=0, cache_key="m"), e1)
    with pytest.raises(AssertionError, match="recomputed"):   # other settings: a different key
        tsne.tsne_embedding(f, perplexity=5, seed=1, cache_key="m")
    with pytest.raises(AssertionError, match="recomputed"):   # other features: a different key
        tsne.tsne_embedding(f + 1, perplexity=5, seed=0, cache_key="m")


def test_tsne_pure_helpers():
    data = make_data()
    emb = np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]])
    assert tsne.nearest_point(emb, (4.0, 4.5)) == 2
    values, names = tsne.color_values(data, "class")
    assert names == {0: "wave", 1: "kick", 2: "sit"}
    values, names = tsne.color_values(data, "view")
    np.testing.assert_array_equal(values, data.view)
    assert names == {0: "view 0", 1: "view 1", 2: "view 2"}
    with pytest.raises(ValueError, match="color_by"):
        tsne.color_values(data, "colour")
    fig = tsne.tsne_figure(np.random.default_rng(0).normal(size=(30, 2)), data.y, "class",
                           names=data.class_names, selected=4, title="m")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["wave", "kick", "sit"]
    assert len(ax.collections) == 4                         # 3 classes + the selected star
    assert ax.get_title() == "m"
    assert tsne.sample_label(data, 4) == "S001C002P004R001A002 · kick · subject 0 · view 1"


def test_tsne_explorer_responds_to_controls(monkeypatch):
    data = make_data()
    shown = []
    real_show = tsne.show_sample
    monkeypatch.setattr(tsne, "show_sample",
                        lambda out, x, layout, title="", animate=False:
                        (shown.append((x.copy(), animate)), real_show(out, x, layout, title, animate)))
    ex = tsne.tsne_explorer({"A": features_for(data), "B": features_for(data, seed=1)}, data,
                            perplexity=5)
    assert ex.state == {"split": "all", "method": "A", "compare": None, "color_by": "class", "point": 0,
                        "index": 0, "animate": False, "label": 0}
    assert ex.split_w.layout.display == "none"              # one split: no split control shown
    assert len(ex.figure.axes) == 1 and ex.figure.axes[0].get_title() == "A"
    first = ex.figure

    ex.color_w.value = "view"                               # drive the control itself
    assert ex.color_by == "view" and ex.figure is not first
    assert ex.figure.axes[0].get_legend().get_title().get_text() == "view"

    ex.set_compare("B")
    assert [a.get_title() for a in ex.figure.axes] == ["A", "B"]
    assert set(ex.embeddings) == {("all", "A"), ("all", "B")}

    ex.point_w.value = 7
    assert ex.state["index"] == 7 and data.names[7] in ex.info.value
    np.testing.assert_array_equal(shown[-1][0], data.x[7])

    target = ex.embedding("B")[12] + 1e-4
    ex.select_at(*target, method="B")
    assert ex.point == 12

    ex.set_method("B")
    assert ex.method == "B" and ex.figure.axes[0].get_title() == "B"
    n = len(shown)
    ex.set_animate(True)
    assert len(shown) == n + 1 and shown[-1][1] is True

    assert "skelcl-tsne-explorer" in ex._dom_classes and "skelcl-tsne-point" in ex.point_w._dom_classes


def test_tsne_explorer_switches_between_splits():
    train, test = make_data(n=30), make_data(n=18, seed=1)
    feats = {"A": {"train": features_for(train), "test": features_for(test)},
             "B": {"train": features_for(train, seed=2), "test": features_for(test, seed=3)}}
    ex = tsne.tsne_explorer(feats, {"train": train, "test": test}, perplexity=4)
    assert ex.split == "train" and ex.split_w.layout.display == "" and ex.point_w.max == 29
    ex.set_point(25)
    ex.set_split("test")                                    # fewer points: the selection is clipped
    assert ex.split == "test" and ex.data is test and ex.point_w.max == 17 and ex.point == 17
    assert ex.state["index"] == 17 and test.names[17] in ex.info.value
    assert ex.embedding("A").shape == (18, 2) and ("train", "A") in ex.embeddings
    assert "skelcl-tsne-split" in ex.split_w._dom_classes
    with pytest.raises(ValueError, match="same keys"):
        tsne.tsne_explorer({"A": features_for(train)}, {"train": train, "test": test})
    with pytest.raises(ValueError, match=r"\['test'\] has 5 rows"):
        tsne.tsne_explorer({"A": {"train": features_for(train), "test": features_for(test)[:5]}},
                           {"train": train, "test": test})


def test_tsne_explorer_lazy_entries_are_computed_once_when_shown():
    train, test = make_data(n=30), make_data(n=18, seed=1)
    calls = []

    def lazy(split, d, seed):
        def f():
            calls.append(split)
            return features_for(d, seed=seed)
        return f

    feats = {"A": {"train": features_for(train), "test": features_for(test)},
             "lazy": {"train": lazy("train", train, 5), "test": lazy("test", test, 6)}}
    ex = tsne.tsne_explorer(feats, {"train": train, "test": test}, perplexity=4)
    assert calls == [] and list(ex.method_w.options) == ["A", "lazy"]   # listed, not computed
    ex.set_method("lazy")
    assert calls == ["train"] and ex.embedding("lazy").shape == (30, 2)
    ex.set_split("test")
    ex.set_split("train")
    ex.set_compare("A")
    assert calls == ["train", "test"]                           # each split computed once
    np.testing.assert_array_equal(ex.features_of("lazy"), features_for(train, seed=5))
    bad = tsne.tsne_explorer({"A": features_for(train), "short": lambda: features_for(train)[:4]},
                             train, perplexity=4)
    with pytest.raises(ValueError, match=r"\['short'\] has 4 rows"):
        bad.set_method("short")
    flat = tsne.tsne_explorer({"A": features_for(train), "flat": lambda: np.zeros(30)}, train, perplexity=4)
    with pytest.raises(ValueError, match=r"shape \(30,\)"):
        flat.set_method("flat")


def test_checkpoint_features_lists_shipped_entries_and_loads_on_demand(monkeypatch):
    from skelcl_lib import checkpoints

    manifest = checkpoints.read_manifest()["entries"]
    xsub = [n for n, e in manifest.items() if e["data"]["protocol"] == "xsub"]
    assert xsub and all(n.endswith("xsub") for n in xsub)
    loads = []
    real = checkpoints.load_pretrained
    monkeypatch.setattr(checkpoints, "load_pretrained", lambda n, d=None: (loads.append(n), real(n, d))[1])
    one_body = make_data(n=8, t=50)
    x = np.concatenate([one_body.x, np.zeros_like(one_body.x)], axis=-1)   # the shipped input: M = 2
    data = SkeletonData(x=x, y=one_body.y, layout="ntu25")
    lazy = tsne.checkpoint_features({"test": data}, protocol="xsub")
    assert sorted(lazy) == sorted(xsub) and loads == []
    f = lazy["ascal_synthetic_xsub"]["test"]()
    hidden = manifest["ascal_synthetic_xsub"]["config"]["model"]["hidden_size"]
    assert f.shape == (8, hidden) and loads == ["ascal_synthetic_xsub"]
    one = tsne.checkpoint_features(data, names=["ascal_synthetic_xsub"])
    assert callable(one["ascal_synthetic_xsub"])
    with pytest.raises(KeyError, match="not in the manifest"):
        tsne.checkpoint_features(data, names=["nope"])


def test_tsne_explorer_subsamples_and_checks_rows():
    data = make_data(n=30)
    ex = tsne.tsne_explorer({"A": features_for(data)}, data, perplexity=3, max_points=12, click=True)
    assert len(ex.indices) == 12 and ex.point_w.max == 11
    try:                                                    # click needs plotly's FigureWidget
        import plotly.graph_objects as go
        go.FigureWidget()
        has_figure_widget = True
    except Exception:
        has_figure_widget = False
    assert ex.click_enabled == has_figure_widget
    ex.set_point(11)
    assert ex.selected_index == ex.indices[11]
    with pytest.raises(ValueError, match="rows"):
        tsne.tsne_explorer({"A": features_for(data)[:5]}, data)


def test_render_figure_writes_a_png(monkeypatch):
    import ipywidgets
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    fig, ax = plt.subplots(figsize=(2, 2), dpi=50)
    ax.plot([0, 1], [0, 1])
    REAL_RENDER(ipywidgets.Output(), fig)
    assert len(shown) == 1 and shown[0].data[:8] == b"\x89PNG\r\n\x1a\n"
    assert not plt.fignum_exists(fig.number)                 # closed after rendering
    image = ipywidgets.Image(format="png")
    fig = tsne.new_figure((2, 2), 50)                        # not a pyplot figure
    fig.add_subplot(1, 1, 1).plot([0, 1], [1, 0])
    REAL_RENDER(image, fig)
    assert image.value[:8] == b"\x89PNG\r\n\x1a\n" and len(shown) == 1


# ------------------------------------------------------------------------------ kNN

def _split():
    data = make_data(n=45)
    return data.subset(np.arange(30)), data.subset(np.arange(30, 45)), features_for(data, noise=1.5)


def test_knn_neighbors_and_state_match_evaluate():
    train, test, f = _split()
    idx, dist = knn.knn_neighbors(f[:30], f[30:], 5)
    assert idx.shape == dist.shape == (15, 5) and np.all(np.diff(dist, axis=1) >= 0)
    s = knn.knn_state(idx, train.y, test.y, 3, 3)
    assert s["accuracy"] == pytest.approx(knn_accuracy(f[:30], train.y, f[30:], test.y, k=3)[3])
    assert s["confusion"].sum() == 15
    np.testing.assert_allclose(np.nansum(s["per_class"] * np.bincount(test.y)), (s["pred"] == test.y).sum())


def test_knn_explorer_responds_to_controls():
    train, test, f = _split()
    ex = knn.knn_explorer(f[:30], train, f[30:], test, k=5)
    ref_idx, ref_dist = knn.knn_neighbors(f[:30], f[30:], 20)
    assert ex.state["query"] == 0 and ex.k == 5
    np.testing.assert_array_equal(ex.neighbors, ref_idx[0, :5])
    assert len(ex.figure.axes) == 6                         # query + 5 neighbours
    assert ex.figure.axes[0].get_title() == "query: " + test.class_names[test.y[0]]

    ex.k_w.value = 3                                         # drive the slider itself
    assert ex.stats["k"] == 3 and len(ex.figure.axes) == 4
    assert ex.stats["accuracy"] == pytest.approx(knn_accuracy(f[:30], train.y, f[30:], test.y, k=3)[3])
    assert "k=3" in ex.accuracy_fig.axes[0].get_title()

    ex.set_query(7)
    assert ex.query == 7 and ex.state["neighbors"] == ref_idx[7, :3].tolist()
    np.testing.assert_allclose(ex.distances, ref_dist[7, :3])
    assert test.names[7] in ex.info.value
    colors = [a.title.get_color() for a in ex.figure.axes[1:]]
    assert colors == ["tab:green" if train.y[j] == test.y[7] else "tab:red" for j in ref_idx[7, :3]]

    ex.class_w.value = 2                                     # class filter
    assert test.y[ex.query] == 2 and ex.query_w.max == int((test.y == 2).sum()) - 1
    ex.query_w.value = 1
    assert ex.query == np.flatnonzero(test.y == 2)[1]
    ex.set_query(int(np.flatnonzero(test.y == 0)[0]))        # outside the filter: filter cleared
    assert ex.class_filter is None and test.y[ex.query] == 0

    ex.set_animate(True)
    assert len(ex.figure.axes) == 4                          # side-by-side animation figure
    assert "skelcl-knn-explorer" in ex._dom_classes and "skelcl-knn-k" in ex.k_w._dom_classes
    with pytest.raises(IndexError):
        ex.set_query(99)
