"""On the real Pascal Sentences photos (marker `pascal`; .ci/run runs these with the mirror)."""
import json

import pytest

from imagesearch.cli import main
from imagesearch.engine import SearchEngine
from imagesearch.evaluate import annoy_recall, leave_one_out_precision

pytestmark = pytest.mark.pascal


@pytest.fixture(scope="module")
def engine(pascal_index):
    return SearchEngine(pascal_index)


def test_pretrained_weights_find_the_same_class(engine):
    """Chance is 49/999 = 0.05; a prototype with random weights scored 0.10, pretrained 0.43."""
    labels = [item["label"] for item in engine.images.items]
    assert len(labels) == 1000
    assert leave_one_out_precision(engine.images.vectors, labels, 10) >= 0.42


def test_annoy_recall_with_default_settings(engine):
    assert annoy_recall(engine.images, 10) >= 0.99


def test_cli_search_on_pascal(pascal_index, capsys):
    engine = SearchEngine(pascal_index)
    cat = next(item for item in engine.images.items if item["label"] == "cat")
    assert main(["search", str(pascal_index), "--image", cat["path"], "-k", "10", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert sum(r["label"] == "cat" for r in record["results"]) >= 3
