"""Issue 15: the WicedFS reader's work grows at most linearly with the image. For random trees T, the image of T with
each entry of its root present 8 times (8 names, the same subtree) is ~8x the image of T (and its root directory 8x
wider); the reader's work on it (Python calls made, characters of path built,
peak traced memory) must stay within 8x that of T times a small factor. These are counts, not timings, so the
test is exact whatever the machine's load (the quadratic reader of the issue built O(depth^2) path characters)."""

from __future__ import annotations

import sys
import tempfile
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bundler.wicedfs import build_image, list_image

names = st.text(st.characters(whitelist_categories=("Ll", "Nd")), min_size=1, max_size=12)
trees = st.recursive(st.binary(max_size=64), lambda children: st.dictionaries(names, children, min_size=1, max_size=4),
                     max_leaves=12).filter(lambda t: isinstance(t, dict))


def _write(root: Path, tree: dict) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, value in tree.items():
        if isinstance(value, dict):
            _write(root / name, value)
        else:
            (root / name).write_bytes(value)


def _work(image: bytes) -> tuple[int, int, int]:
    """(Python and C calls made, characters of the paths listed, peak traced bytes) while listing `image`."""
    calls = 0

    def count(frame, event, arg):  # noqa: ANN001 (sys.setprofile's signature)
        nonlocal calls
        calls += 1

    tracemalloc.start()
    sys.setprofile(count)
    try:
        entries = list_image(image)
    finally:
        sys.setprofile(None)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return calls, sum(len(e.path) for e in entries), peak


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees)
def test_reader_work_is_linear_in_the_image(tree: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        one, eight = Path(tmp) / "one", Path(tmp) / "eight"
        _write(one, tree)
        _write(eight, {f"{name}{k}": value for name, value in tree.items() for k in range(8)})
        small, big = build_image(one), build_image(eight)
    fixed = 12 + 16  # filesystem header + root directory header: once in either image
    assert 7 * (len(small) - fixed) < len(big) - fixed <= 9 * (len(small) - fixed)  # the 8x image really is ~8x
    (c1, p1, m1), (c8, p8, m8) = _work(small), _work(big)
    assert c8 <= 8 * 2 * c1 + 500, (c1, c8)
    assert p8 <= 8 * 2 * p1, (p1, p8)
    assert m8 <= 8 * 2 * m1 + 64 * 1024, (m1, m8)
