"""Everything `bundle build` accepts passes `bundle inspect --manifest` on the built artefacts, and the SDK-like
WicedFS reader (tests/sdk_wicedfs.py) lists and opens every file of the built filesystem component (hypothesis over
random filesystems, folder-built or prebuilt in any table order, and random DCT serials)."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bundler.build import build_bundle
from bundler.errors import BundleError
from bundler.inspect import inspect_paths
from sdk_wicedfs import SdkWicedFs, sflash_component
from test_checks import FS_4091, FS_INDEX, fs_image

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "ota_demo"

names = st.text(alphabet="ab.z", min_size=1, max_size=4).filter(lambda n: n.strip(".") != "")
files = st.binary(max_size=64).flatmap(lambda head: st.integers(0, 5000).map(lambda n: head + b"\x5a" * n))
trees = st.recursive(files, lambda kids: st.dictionaries(names, kids, max_size=4), max_leaves=8).filter(
    lambda t: isinstance(t, dict) and t)


def flat(tree: dict, prefix: str = "") -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for name, child in tree.items():
        path = prefix + name
        if isinstance(child, dict):
            out.update(flat(child, path + "/"))
        else:
            out[path] = child
    return out


def write_tree(folder: Path, tree: dict) -> None:
    folder.mkdir()
    for name, child in tree.items():
        if isinstance(child, dict):
            write_tree(folder / name, child)
        else:
            (folder / name).write_bytes(child)


def shuffled(tree: dict, keys: list[int]) -> dict:
    """The same tree with each folder's entries in another order (a prebuilt image need not be sorted)."""
    items = sorted(tree.items())
    if keys and keys[0] % 2:
        items.reverse()
    return {n: shuffled(c, keys[1:]) if isinstance(c, dict) else c for n, c in items}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(tree=trees, prebuilt=st.booleans(), order=st.lists(st.integers(0, 3), max_size=4),
       serial=st.integers(0, 99999999))
@example(tree=FS_4091, prebuilt=False, order=[], serial=1)  # the image of issue 20: padded by the build
@example(tree=FS_4091, prebuilt=True, order=[1], serial=2)
def test_build_accepts_implies_inspect_manifest_passes(tmp_path_factory, tree: dict, prebuilt: bool,
                                                       order: list[int], serial: int) -> None:
    work = tmp_path_factory.mktemp("prop")
    sample = work / "sample"
    shutil.copytree(SAMPLE, sample, ignore=shutil.ignore_patterns("resources"))
    config = sample / "bundle.toml"
    text = config.read_text().replace('serial_number = "SN00000001"', f'serial_number = "SN{serial:08d}"')
    if prebuilt:
        (sample / "fs.bin").write_bytes(fs_image(shuffled(tree, order)))
        text = text.replace('filesystem = "resources/"', 'filesystem = "fs.bin"')
    else:
        write_tree(sample / "resources", tree)
    config.write_text(text)
    out = work / "out"
    try:
        build_bundle(config, out)
    except BundleError:
        assert not out.exists()
        return
    doc = inspect_paths([out], manifest=out / "manifest.json")
    assert doc["exit_code"] == 0, [f for d in doc["files"] for f in d["findings"] if f["severity"] != "note"]
    component = sflash_component((out / "sflash.bin").read_bytes(), FS_INDEX)
    assert SdkWicedFs(component).walk() == flat(tree)
