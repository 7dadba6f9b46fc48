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
