"""imagesearch.scaling: the helpers of notebook 08 and bench/scale.py (estimates, memory,
recall, the benchmark's figures and their plot)."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from imagesearch import scaling  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def figures(source=None):
    out = {
        "n": 1000,
        "dim": 512,
        "backends": [
            {
                "spec": "annoy:trees=50,search_k=2000/8000",
                "build_s": 1.0,
                "peak_rss_mb": 10.0,
                "points": [
                    {"search_k": 2000, "recall_at_10": 0.8, "p50_ms": 0.5, "p95_ms": 0.6},
                    {"search_k": 8000, "recall_at_10": 0.9, "p50_ms": 2.0, "p95_ms": 2.5},
                ],
            },
            {
                "spec": "usearch-f16:M=32,efc=200,ef=64/128/256",
                "build_s": 2.0,
                "peak_rss_mb": 20.0,
                "points": [
                    {"ef": 64, "recall_at_10": 0.93, "p50_ms": 0.3, "p95_ms": 0.4},
                    {"ef": 128, "recall_at_10": 0.96, "p50_ms": 0.6, "p95_ms": 0.7},
                    {"ef": 256, "recall_at_10": 0.98, "p50_ms": 1.1, "p95_ms": 1.3},
                ],
            },
        ],
    }
    if source:
        out["source"] = source
    return out


def test_extrapolation_follows_a_line_and_memory_is_counted_per_component():
    sizes = [1000, 10_000, 100_000]
    seconds = [0.001 + 2e-7 * n for n in sizes]
    assert scaling.extrapolate_linear(sizes, seconds, 1_000_000) == pytest.approx(0.201)
    assert scaling.vector_bytes(1_000_000, 512) == 2_048_000_000
    assert scaling.vector_bytes(1_000_000, 512, "float16") == 1_024_000_000
    assert scaling.vector_bytes(10, 4, "int8") == 40
    assert scaling.hnsw_graph_bytes(1000, 16) == 1000 * (128 + 12)
    with pytest.raises(KeyError):
        scaling.vector_bytes(1, 1, "float64")


def test_exact_search_is_timed_at_every_size():
    vectors = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    timed = scaling.time_exact_search(vectors, [50, 200], queries=3)
    assert [n for n, _ in timed] == [50, 200]
    assert all(seconds > 0 for _, seconds in timed)


def test_recall_counts_the_true_neighbours_found():
    assert scaling.recall_at_k([[1, 2], [3, 4]], [[1, 2], [3, 5]]) == 0.75
    assert scaling.recall_at_k([np.array([7, 8])], [np.array([8, 9])]) == 0.5
    assert scaling.recall_at_k([], []) == 0.0


def test_best_setting_is_the_fastest_reaching_the_goal_else_the_most_accurate():
    rows = scaling.best_settings(figures())
    annoy, usearch = rows
    assert annoy["backend"] == "annoy:trees=50" and annoy["setting"] == "search_k=8000"
    assert annoy["reaches 0.95"] is False
    assert usearch["backend"] == "usearch-f16:M=32,efc=200"
    assert usearch["setting"] == "ef=128" and usearch["recall@10"] == 0.96 and usearch["reaches 0.95"]
    assert usearch["build s"] == 2.0 and usearch["peak MB"] == 20.0
    assert scaling.best_settings(figures(), recall=0.9)[0]["setting"] == "search_k=8000"
    assert scaling.backend_label("faiss-ivf:nlist=1024,nprobe=8/16") == "faiss-ivf:nlist=1024"
    assert scaling.backend_label("hnswlib") == "hnswlib"


def test_the_largest_run_is_loaded_and_old_runs_count_as_synthetic(tmp_path):
    assert scaling.load_scale_results(folder=tmp_path) is None
    (tmp_path / "scale-100000.json").write_text(json.dumps(figures()))
    loaded = scaling.load_scale_results(folder=tmp_path)
    assert loaded["source"] == "synthetic" and loaded["file"] == "scale-100000.json"
    (tmp_path / "scale-1000000.json").write_text(json.dumps({**figures("synthetic"), "n": 1_000_000}))
    assert scaling.load_scale_results(folder=tmp_path)["n"] == 1_000_000
    assert scaling.load_scale_results("pascal", folder=tmp_path) is None
    (tmp_path / "scale-pascal-1000000.json").write_text(json.dumps(figures("pascal")))
    assert scaling.load_scale_results("pascal", folder=tmp_path)["file"] == "scale-pascal-1000000.json"


def test_the_curve_marks_the_goal_and_reads_at_github_width(tmp_path):
    fig = scaling.plot_recall_latency(figures()["backends"], 1000)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("target: recall@10 ≥ 0.95, p50 ≤ 5 ms")
    assert labels[1:] == ["annoy:trees=50", "usearch-f16:M=32,efc=200"]
    assert len(ax.collections) == 1  # the shaded goal region
    assert ax.get_xscale() == "log" and "1,000 x 512" in ax.get_title()
    width, _ = fig.get_size_inches() * 120
    assert width <= 1000
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text() and t.get_visible()]
    assert min(sizes) >= 10
    out = tmp_path / "curve.png"
    fig.savefig(out, dpi=120)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mirrored_copies_are_new_files_labelled_by_folder(tmp_path):
    from PIL import Image

    source = tmp_path / "data" / "cat" / "a.png"
    source.parent.mkdir(parents=True)
    pixels = np.zeros((4, 6, 3), np.uint8)
    pixels[:, 0] = 255  # a red left edge
    Image.fromarray(pixels).save(source)
    (copy,) = scaling.mirrored_copies([source], tmp_path / "new")
    assert copy == tmp_path / "new" / "cat" / "mirrored-a.png"
    mirrored = np.asarray(Image.open(copy))
    assert mirrored[:, -1].min() == 255 and mirrored[:, 0].max() == 0


def test_result_keys_name_each_result_with_its_score():
    from imagesearch.index import Result

    class Index:
        records = [{"key": "cat/1.jpg"}, {"path": "/x/dog/2.jpg"}]

    results = [Result(1, 0, "/x/cat/1.jpg", "cat", 0.81234), Result(2, 1, "/x/dog/2.jpg", "dog", 0.5)]
    assert scaling.result_keys(Index(), results) == ["cat/1.jpg  0.812", "2.jpg  0.500"]
    assert scaling.result_keys(Index(), results, score=False) == ["cat/1.jpg", "2.jpg"]


def test_a_backend_has_one_colour_in_every_plot():
    import matplotlib.pyplot as plt

    backends = figures()["backends"]
    colours = []
    for order in (backends, backends[::-1]):
        fig = scaling.plot_recall_latency(order, 1000)
        ax = fig.axes[0]
        colours.append(
            {
                line.get_label(): line.get_color()
                for line in ax.get_lines()
                if not line.get_label().startswith("_")
            }
        )
        plt.close(fig)
    assert colours[0] == colours[1] and len(set(colours[0].values())) == len(colours[0])
    assert scaling.backend_style("usearch-i8:M=32") != scaling.backend_style("annoy:trees=100")
