"""imagesearch.maps and its neighbours import nothing heavy: UMAP, TensorFlow and matplotlib's
pyplot wait for the first map drawn (checked in a fresh interpreter, since this test process may
have them loaded already)."""

import json
import subprocess
import sys

HEAVY = ("umap", "tensorflow", "keras", "matplotlib.pyplot")


def test_importing_maps_plots_and_captions_loads_no_heavy_module():
    code = (
        "import json, sys\n"
        "import imagesearch.captions, imagesearch.maps, imagesearch.plots\n"
        f"print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {m: False for m in HEAVY}


def _crowded_map(tmp_path, **kwargs):
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    from PIL import Image

    from imagesearch import maps

    rng = np.random.default_rng(0)
    labels = [f"class {i % 20}" for i in range(400)]
    centres = rng.uniform(0, 10, (20, 2))
    xy = centres[np.arange(400) % 20] + rng.normal(0, 0.3, (400, 2))
    path = tmp_path / "t.png"
    Image.new("RGB", (64, 48), (90, 120, 200)).save(path)
    return maps.scatter_map(xy, labels, title="map", **kwargs), labels


def _text_boxes(fig):
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    return [t.get_window_extent(renderer) for t in ax.texts], [t.get_text() for t in ax.texts]


def test_scatter_map_names_classes_at_their_centroids_without_overlap(tmp_path):
    from imagesearch import plots

    fig, labels = _crowded_map(tmp_path, thumbnails=[tmp_path / "t.png"] * 400, thumbnail_every=2)
    boxes, texts = _text_boxes(fig)
    assert set(texts) <= set(labels) and len(texts) >= 10
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    thumbnails = [a for a in fig.axes[0].artists if type(a).__name__ == "AnnotationBbox"]
    assert 0 < len(thumbnails) <= 24  # fewer, larger thumbnails: at most max_thumbnails
    renderer = fig.canvas.get_renderer()
    extents = [a.get_window_extent(renderer) for a in thumbnails]
    assert not any(a.overlaps(b) for i, a in enumerate(extents) for b in extents[i + 1 :])
    assert fig.axes[0].get_legend() is None  # the names on the map replace the legend
    assert plots.figure_problems(fig) == []
    colours = {tuple(c.get_facecolor()[0]) for c in fig.axes[0].collections}
    assert len(colours) == 20  # one distinguishable colour per class (tab20)


def test_scatter_map_word_texts_never_overlap_and_wide_maps_fit(tmp_path):
    from imagesearch import plots

    texts = [f"word{i}" for i in range(400)]
    fig, _ = _crowded_map(tmp_path, texts=texts, figsize=(14, 10))
    boxes, shown = _text_boxes(fig)
    assert 0 < len(shown) < 400 and set(shown) <= set(texts)
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert plots.figure_problems(fig) == []
