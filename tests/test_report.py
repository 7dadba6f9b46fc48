"""imagesearch.report: the one results table (CLI and demo) and the evaluation report as text."""

from imagesearch.index import Result
from imagesearch.report import PRINTED_METRICS, print_evaluation, print_results

RESULTS = [Result(1, 7, "/data/cat/7.jpg", "cat", 0.98765), Result(2, 3, "/data/dog/3.jpg", "dog", 0.5)]


def test_print_results_shows_paths_under_the_title_as_given(capsys):
    print_results("\nimage q.jpg", RESULTS)
    assert capsys.readouterr().out.splitlines() == [
        "",
        "image q.jpg",
        "  rank   score  label          path",
        "     1   0.988  cat            /data/cat/7.jpg",
        "     2   0.500  dog            /data/dog/3.jpg",
    ]


def test_print_results_can_name_results_by_key_as_the_demo_does(capsys):
    print_results("Text query: 'cat'", RESULTS, names=["cat/7.jpg", "dog/3.jpg"], column="image")
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "  rank   score  label          image"
    assert lines[2].endswith(" cat/7.jpg") and lines[3].endswith(" dog/3.jpg")


def test_print_evaluation_lists_every_metric_and_marks_missing_ones(capsys):
    report = {key: 0.5 for key in PRINTED_METRICS}
    report.update(
        test_images=40,
        tags_caption_top5=None,
        heldout_classes=["cat", "dog"],
        words_source="given",
        words=[
            {"word": "ocean", "relevant": 3, "p10": 0.3, "chance": 0.075},
            {"word": "zzzq", "relevant": 0, "p10": None, "chance": 0.0, "unknown": True},
            {"word": "sofa", "relevant": 0, "p10": None, "chance": 0.0},
        ],
    )
    print_evaluation(report)
    out = capsys.readouterr().out
    assert out.startswith("on the 40 test images (never used in training):\n")
    assert all(f"  {key:<28} " in out for key in PRINTED_METRICS)
    assert "  tags_caption_top5            n/a\n" in out and "  class_words_p10              0.500\n" in out
    assert "  held-out classes: cat, dog\n" in out
    assert "    ocean          P@10 0.30    relevant test images   3  chance 0.075\n" in out
    assert "    zzzq           P@10 unknown" in out and "    sofa           P@10 n/a    " in out
