"""The package's shape, measured from its source: no module over MAX_LINES lines, at most
LONG_FUNCTIONS functions over MAX_FUNCTION lines (the ones still waiting to be split are
named), the query side never imports the build side, and one top-k.

    python tests/test_architecture.py   # prints the figures
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "imagesearch"
MAX_LINES, MAX_FUNCTION = 300, 60
#: Functions still over MAX_FUNCTION lines: none now, and none may come back.
KNOWN_LONG: set[str] = set()  # 12 at 28e5861
KNOWN_BIG: set[str] = set()  # 7 at 28e5861, each split by concept since
QUERY_SIDE = (
    "engine",
    "updates",
    "qdrant_store",
    "qdrant_collections",
    "steer",
    "folder",
)  # config and demo build on first use


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def name(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def function_lengths(path: Path) -> dict[str, int]:
    tree = ast.parse(path.read_text())
    out = {}

    def visit(node, prefix=""):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out[f"{name(path)}:{prefix}{child.name}"] = child.end_lineno - child.lineno + 1
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(tree)
    return out


def long_functions() -> dict[str, int]:
    lengths = {}
    for path in modules():
        lengths.update(function_lengths(path))
    return {f: n for f, n in lengths.items() if n > MAX_FUNCTION}


def big_modules() -> dict[str, int]:
    sizes = {name(p): len(p.read_text().splitlines()) for p in modules()}
    return {m: n for m, n in sizes.items() if n > MAX_LINES}


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_no_new_long_functions_or_big_modules():
    assert set(long_functions()) <= KNOWN_LONG, set(long_functions()) - KNOWN_LONG
    assert set(big_modules()) <= KNOWN_BIG, set(big_modules()) - KNOWN_BIG


def test_the_query_side_never_imports_the_build_side():
    for module in QUERY_SIDE:
        assert "indexing" not in imported_modules(PACKAGE / f"{module}.py") or module in ("config", "demo"), (
            module
        )
    for module in ("engine", "updates", "qdrant_store", "folder"):
        assert "indexing" not in imported_modules(PACKAGE / f"{module}.py"), module


def test_one_top_k():
    users = [name(p) for p in modules() if "lexsort(" in p.read_text() or "argpartition(" in p.read_text()]
    assert users == ["imagesearch/ranking.py"]


if __name__ == "__main__":
    for f, n in sorted(long_functions().items(), key=lambda x: -x[1]):
        print(f"{n:4d}  {f}")
    print(f"{len(long_functions())} functions over {MAX_FUNCTION} lines")
    for m, n in sorted(big_modules().items(), key=lambda x: -x[1]):
        print(f"{n:4d}  {m}")
    print(f"{len(big_modules())} modules over {MAX_LINES} lines")
