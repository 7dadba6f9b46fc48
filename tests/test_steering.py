"""Relevance feedback and composed queries: the numpy parts on synthetic spaces, then the
engine and the CLI on the embedded data set."""

from __future__ import annotations

import numpy as np
import pytest

from imagesearch import cli
from imagesearch.composed import composed_vector
from imagesearch.engine import UnknownItemError
from imagesearch.experiments.steering import simulated_user
from imagesearch.features import l2_normalize as unit
from imagesearch.feedback import feedback_scores, rocchio, top_rows


def rank_of(scores, row):
    return int(np.flatnonzero(top_rows(scores, len(scores))[0] == row)[0])


def test_a_liked_item_rises_and_a_disliked_one_falls():
    rng = np.random.default_rng(0)
    X, J = unit(rng.normal(size=(200, 16))), unit(rng.normal(size=(200, 8)))
    q = 0
    plain = feedback_scores([(X, X[q]), (J, J[q])], [], [])
    liked, disliked = int(np.argsort(-plain)[100]), int(np.argsort(-plain)[1])
    steered = feedback_scores([(X, X[q]), (J, J[q])], [liked], [disliked])
    assert rank_of(steered, liked) < rank_of(plain, liked) and rank_of(steered, liked) <= 2
    assert rank_of(steered, disliked) > rank_of(plain, disliked)
    # a text query has no image vector: there the examples alone count
    words = feedback_scores([(J, J[q]), (X, None)], [liked], [])
    assert rank_of(words, liked) < rank_of(feedback_scores([(J, J[q]), (X, None)], [], []), liked)
    assert np.allclose(rocchio(None, X, [liked], []), X[liked], atol=1e-6)


def test_composed_finds_the_class_with_the_word_above_either_alone():
    # joint space axes: 0 = cat, 1 = dog, 2 = grass, 3 = sofa; images: class + setting + noise
    def image(cls, place, noise):
        return unit(np.eye(4)[cls] + 0.6 * np.eye(4)[place] + noise)

    rng = np.random.default_rng(1)
    J = np.stack([image(c, p, 0.05 * rng.normal(size=4)) for c, p in [(0, 3)] * 5 + [(0, 2)] + [(1, 2)] * 5])
    query, grass, target = 0, np.eye(4)[2], 5  # a cat on a sofa, "grass"; a cat on grass
    composed = J @ composed_vector(J[query], grass, 1.0)
    assert top_rows(composed, 1, [query])[0][0] == target
    assert top_rows(J @ J[query], 1, [query])[0][0] != target  # the image alone: cats on sofas
    assert top_rows(J @ grass, 1, [query])[0][0] != target  # the word alone: dogs on grass


def test_simulated_user_scores_the_residual_ranking():
    labels = np.array(["a"] * 15 + ["b"] * 15)
    X = unit(np.stack([np.eye(3)[0 if label == "a" else 1] for label in labels]) + 1.2 * np.eye(30, 3, 2))
    X = unit(X + 0.5 * np.random.default_rng(2).normal(size=X.shape))
    out = simulated_user(
        [(i, labels[i], i) for i in range(30)],
        labels,
        lambda r: X @ X[r],
        lambda r, liked, disliked: feedback_scores([(X, X[r])], liked, disliked),
        rounds=2,
        k=5,
    )
    assert out["count"] == 30 and len(out["none"]) == len(out["feedback"]) == 2
    assert out["feedback"][0] > out["none"][0]


def test_engine_feedback_by_key_path_or_row(engine):
    records = engine.images.records
    plain = engine.similar_images(0, 10, exact=True)
    liked, disliked = plain[-1], plain[0]
    steered = engine.similar_images(0, 10, like=[records[liked.row]["key"]], unlike=[disliked.path])
    rows = [r.row for r in steered]
    assert rows[0] == liked.row and (disliked.row not in rows or rows.index(disliked.row) > 0)
    assert engine.item_row(records[3]["path"]) == engine.item_row("3") == engine.item_row(3) == 3
    text = engine.text_search("dog", 5, like=[liked.row])
    assert text.results[0].row == liked.row
    with pytest.raises(UnknownItemError, match="'no/such.jpg' is not in the index"):
        engine.similar_images(0, like=["no/such.jpg"])
    refined = engine.similar_images(0, 10, with_words="grass")
    assert refined != plain and all(r.row != 0 for r in refined)


def test_cli_like_unknown_and_with_without_image(engine, capsys):
    folder = str(engine.folder)
    assert cli.main(["search", folder, "--text", "dog", "--like", "missing.jpg"]) == 1
    assert "'missing.jpg' is not in the index" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="--with refines an image: give one with --image"):
        cli.main(["search", folder, "--text", "dog", "--with", "grass"])
    key = engine.images.records[1]["key"]
    assert (
        cli.main(
            [
                "search",
                folder,
                "--image",
                engine.images.records[0]["path"],
                "--with",
                "grass",
                "--like",
                key,
                "--json",
                "-k",
                "3",
            ]
        )
        == 0
    )
    line = capsys.readouterr().out
    assert '"with": "grass"' in line and f'"like": ["{key}"]' in line
