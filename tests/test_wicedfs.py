"""WicedFS build / list / extract, checked against a reader written here from the documented format
(../shared/docs/wiced-formats.md §4), hand-computed images, and the file tree itself."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

import bundler.wicedfs as wfs
from bundler.cli import app
from bundler.errors import InputError, OutputError, PlacementError, hexsize
from bundler.wicedfs import FsEntry, build_image, detect, extract_image, list_image

REPO = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ independent reader (not the Construct structs)


def ref_list(img: bytes, wide: bool = False) -> list[tuple[str, bool, int, int]]:
    """(path, is_dir, absolute content offset, size) depth first, following the SDK structures field by field."""
    us = 8 if wide else 4  # wicedfs_usize_t / wicedfs_ssize_t

    def u(off: int, k: int) -> int:
        return int.from_bytes(img[off:off + k], "little")

    def s(off: int, k: int) -> int:
        return int.from_bytes(img[off:off + k], "little", signed=True)

    assert img[:4] == b"BRCM" and u(4, 4) == 1
    out: list[tuple[str, bool, int, int]] = []

    def walk(d: int, prefix: str) -> None:
        table, num = d + s(d, us), u(d + us, us)
        entry_size, name_size = u(d + 2 * us, 4), u(d + 2 * us + 4, 4)
        for i in range(num):
            e = table + i * entry_size
            kind, content, size = u(e, 4) & 0xF, e + s(e + 4, us), u(e + 4 + us, us)
            name_field = img[e + 4 + 2 * us:e + 4 + 2 * us + name_size]
            name = name_field.split(b"\0")[0].decode()
            out.append((prefix + name, kind == 0, content, 0 if kind == 0 else size))
            if kind == 0:
                walk(content, prefix + name + "/")

    walk(u(8, us), "")
    return out


# ------------------------------------------------------------------ trees on disk

Tree = dict  # name -> bytes (file) or Tree (folder)


def write_tree(root: Path, tree: Tree, reverse: bool = False) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name in sorted(tree, reverse=reverse):
        value = tree[name]
        if isinstance(value, dict):
            write_tree(root / name, value, reverse)
        else:
            (root / name).write_bytes(value)


def read_tree(root: Path) -> Tree:
    return {
        p.name: read_tree(p) if p.is_dir() else p.read_bytes()
        for p in root.iterdir()
    }


def flatten(tree: Tree, prefix: str = "") -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for name, value in tree.items():
        if isinstance(value, dict):
            out[prefix + name] = None
            out.update(flatten(value, prefix + name + "/"))
        else:
            out[prefix + name] = value
    return out


_name_chars = st.characters(codec="utf-8", exclude_characters="/\0")
short_names = st.text(_name_chars, min_size=1, max_size=12).filter(
    lambda n: n not in (".", "..") and len(n.encode()) <= 255
)
long_names = st.sampled_from(["L" * 255, "é" * 127 + "e", "日" * 85, "x" * 254])  # 255 (254) UTF-8 bytes
names = st.one_of(short_names, short_names, short_names, long_names)
contents = st.binary(max_size=200)
trees = st.recursive(
    st.dictionaries(names, contents, max_size=4),
    lambda children: st.dictionaries(names, st.one_of(contents, children), max_size=4),
    max_leaves=12,
)

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ hand-computed images


def test_golden_32bit_image(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"hi")
    expected = (
        b"BRCM" + (1).to_bytes(4, "little") + (12).to_bytes(4, "little")      # filesystem header
        + bytes.fromhex("10000000 01000000 0e000000 02000000")                  # dir: table@+16, 1 file, 14, 2
        + bytes.fromhex("01000000 0e000000 02000000") + b"a\0"                  # file, +14 -> 42, 2 bytes
        + b"hi"
    )
    assert build_image(tmp_path) == expected
    assert list_image(expected) == [FsEntry("a", False, 2, 42, hashlib.sha256(b"hi").hexdigest())]


def test_golden_64bit_image(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"hi")
    expected = (
        b"BRCM" + (1).to_bytes(4, "little") + (16).to_bytes(8, "little")
        + (24).to_bytes(8, "little") + (1).to_bytes(8, "little") + (22).to_bytes(4, "little")
        + (2).to_bytes(4, "little")
        + (1).to_bytes(4, "little") + (22).to_bytes(8, "little") + (2).to_bytes(8, "little") + b"a\0"
        + b"hi"
    )
    assert build_image(tmp_path, wide=True) == expected
    assert [(e.path, e.offset, e.size) for e in list_image(expected, wide=True)] == [("a", 62, 2)]


def test_empty_folder_and_empty_subfolder(tmp_path: Path) -> None:
    # mk_wicedfs: an empty directory still has filename_size = 0 + 1
    assert build_image(tmp_path) == b"BRCM" + bytes.fromhex("01000000 0c000000 10000000 00000000 0d000000 01000000")
    (tmp_path / "e").mkdir()
    img = build_image(tmp_path)
    assert ref_list(img) == [("e", True, 42, 0)]
    assert img[42:] == bytes.fromhex("10000000 00000000 0d000000 01000000")


def test_name_padding_is_zero_and_order_is_byte_order(tmp_path: Path) -> None:
    for name in ["b", "B", "a.txt", "a", "é", "z" * 10]:
        (tmp_path / name).write_bytes(name.encode())
    img = build_image(tmp_path)
    got = [p for p, *_ in ref_list(img)]
    assert got == sorted(got, key=lambda n: n.encode()) == ["B", "a", "a.txt", "b", "zzzzzzzzzz", "é"]
    name_size = int.from_bytes(img[24:28], "little")
    assert name_size == 11
    for i in range(6):
        field = img[28 + i * 23 + 12:28 + (i + 1) * 23]
        name, _, rest = field.partition(b"\0")
        assert rest == bytes(len(rest))


# ------------------------------------------------------------------ round trip, independent reader, determinism


@SETTINGS
@given(tree=trees, wide=st.booleans())
def test_round_trip_and_independent_reader(tree: Tree, wide: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp, "src"), Path(tmp, "dst")
        write_tree(src, tree)
        img = build_image(src, wide=wide)
        entries = list_image(img, wide=wide)
        assert [(e.path, e.is_dir, e.offset, e.size) for e in entries] == ref_list(img, wide)
        flat = flatten(tree)
        assert {e.path for e in entries} == set(flat)
        for e in entries:
            if e.is_dir:
                assert e.sha256 is None
            else:
                assert img[e.offset:e.offset + e.size] == flat[e.path]
                assert e.sha256 == hashlib.sha256(flat[e.path]).hexdigest()
        assert extract_image(img, dst, wide=wide) == entries
        assert read_tree(dst) == tree
        assert detect(img)


@SETTINGS
@given(tree=trees)
def test_deterministic_whatever_the_creation_order(tree: Tree) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp, "a"), Path(tmp, "b")
        write_tree(a, tree)
        write_tree(b, tree, reverse=True)
        for i, p in enumerate(sorted(b.rglob("*"))):
            os.utime(p, (1_000_000 + i, 1_000_000 + i))  # timestamps must not matter
        assert build_image(a) == build_image(a) == build_image(b)


def test_long_name_at_the_limit(tmp_path: Path) -> None:
    name = "é" * 127 + "x"  # 255 UTF-8 bytes, the longest a host (and mk_wicedfs's readdir) gives
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / name).write_bytes(b"1")
    img = build_image(tmp_path / "src")
    assert ref_list(img) == [(name, False, 12 + 16 + 12 + 256, 1)]
    extract_image(img, tmp_path / "out")
    assert (tmp_path / "out" / name).read_bytes() == b"1"


# ------------------------------------------------------------------ build refusals


def test_refuses_symlinks(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    (tmp_path / "link").symlink_to("f")
    with pytest.raises(InputError, match="symbolic link"):
        build_image(tmp_path)


def test_refuses_symlinked_folder(tmp_path: Path) -> None:
    (tmp_path / "src" / "d").mkdir(parents=True)
    (tmp_path / "src" / "up").symlink_to(tmp_path / "src" / "d")
    with pytest.raises(InputError, match="symbolic link"):
        build_image(tmp_path / "src")


def test_refuses_name_longer_than_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # hosts cap names at 255 bytes, so the limit is lowered to show the check and its message
    monkeypatch.setattr(wfs, "MAX_NAME_BYTES", 8)
    (tmp_path / ("n" * 8)).write_bytes(b"")
    build_image(tmp_path)
    (tmp_path / ("n" * 9)).write_bytes(b"")
    with pytest.raises(InputError, match=r"name is 9 bytes, longer than the 8 bytes"):
        build_image(tmp_path)


@pytest.mark.parametrize("name", [b"a/b", b"a\0b"])
def test_refuses_bytes_the_format_cannot_hold(name: bytes) -> None:
    with pytest.raises(InputError, match="NUL or '/'"):
        wfs._check_name(name, Path("x"))


def test_refuses_non_utf8_name(tmp_path: Path) -> None:
    try:
        fd = os.open(os.path.join(os.fsencode(tmp_path), b"\xff.txt"), os.O_CREAT | os.O_WRONLY)
    except OSError:
        pytest.skip("this filesystem does not allow non-UTF-8 names")
    os.close(fd)
    with pytest.raises(InputError, match="not valid UTF-8"):
        build_image(tmp_path)


def test_refuses_special_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(InputError, match="neither a regular file nor a folder"):
        build_image(tmp_path)


def test_max_size_says_by_how_much(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"hi")  # image is 44 bytes (golden test)
    assert len(build_image(tmp_path, max_size=44)) == 44
    with pytest.raises(PlacementError) as err:
        build_image(tmp_path, max_size=40)
    assert f"{hexsize(4)} larger than its slot of {hexsize(40)}" in str(err.value)


def test_refuses_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a folder"):
        build_image(tmp_path / "nope")


# ------------------------------------------------------------------ read refusals


def _image(tmp_path: Path, wide: bool = False) -> bytes:
    (tmp_path / "src" / "d").mkdir(parents=True)
    (tmp_path / "src" / "d" / "f").write_bytes(b"content")
    (tmp_path / "src" / "g").write_bytes(b"gg")
    return build_image(tmp_path / "src", wide=wide)


def test_wrong_magic_and_version(tmp_path: Path) -> None:
    img = _image(tmp_path)
    with pytest.raises(InputError, match=r"^offset 0x0: magic_number is 0x4D435258"):
        list_image(b"XRCM" + img[4:])
    with pytest.raises(InputError, match=r"^offset 0x4: version is 2, expected 1"):
        list_image(img[:4] + (2).to_bytes(4, "little") + img[8:])
    assert not detect(b"XRCM" + img[4:]) and not detect(b"") and not detect(img[:20])


def test_flavour_mismatch_names_the_option(tmp_path: Path) -> None:
    narrow, wide = _image(tmp_path), build_image(tmp_path / "src", wide=True)
    with pytest.raises(InputError, match=r"64-bit-length.*use --wide|read it with --wide"):
        list_image(wide)
    with pytest.raises(InputError, match="without --wide"):
        list_image(narrow, wide=True)
    assert detect(wide) and detect(narrow)


def test_entry_outside_the_image(tmp_path: Path) -> None:
    img = _image(tmp_path)
    with pytest.raises(InputError, match=r"^offset 0x[0-9A-F]+: 'g': content at 0x[0-9A-F]+ .* outside the image"):
        list_image(img[:-1])


def test_directory_loop(tmp_path: Path) -> None:
    img = bytearray(_image(tmp_path))
    d = next(e for e in list_image(bytes(img)) if e.path == "d")
    # make d's only entry ("f") a directory whose content is d's own header (its ancestor)
    f_entry = d.offset + 16
    back = (d.offset - f_entry).to_bytes(4, "little", signed=True)
    img[f_entry:f_entry + 12] = (0).to_bytes(4, "little") + back + bytes(4)
    with pytest.raises(InputError, match=r"'d/f' is a directory already reached \(a loop"):
        list_image(bytes(img))


def test_absurd_count_does_not_allocate(tmp_path: Path) -> None:
    img = bytearray(_image(tmp_path))
    img[16:20] = (0xFFFFFFFF).to_bytes(4, "little")  # root num_files = 2^32 - 1
    with pytest.raises(InputError, match="num_files 4294967295"):
        list_image(bytes(img))
    wide = bytearray(build_image(tmp_path / "src", wide=True))
    wide[24:32] = (1 << 63).to_bytes(8, "little")
    with pytest.raises(InputError, match="num_files 9223372036854775808"):
        list_image(bytes(wide), wide=True)


# ------------------------------------------------------------------ extract


def test_extract_refuses_non_empty_dest_unless_forced(tmp_path: Path) -> None:
    img = _image(tmp_path)
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "g").write_bytes(b"old")
    with pytest.raises(OutputError, match="not empty"):
        extract_image(img, dest)
    assert (dest / "g").read_bytes() == b"old"
    extract_image(img, dest, force=True)
    assert (dest / "g").read_bytes() == b"gg" and (dest / "d" / "f").read_bytes() == b"content"
    assert sorted(p.name for p in dest.iterdir()) == ["d", "g"]  # no temp files left
    assert (dest / "g").stat().st_mode & 0o777 == 0o644


def test_extract_refuses_dest_that_is_a_file(tmp_path: Path) -> None:
    img = _image(tmp_path)
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(OutputError, match="not a folder"):
        extract_image(img, tmp_path / "file")


def test_extract_never_writes_through_links(tmp_path: Path) -> None:
    img = _image(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "d").symlink_to(outside)
    with pytest.raises(OutputError, match="symbolic link"):
        extract_image(img, dest, force=True)
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("bad", [b"..", b".", b"a/b", b"/"])
def test_extract_refuses_escaping_names(tmp_path: Path, bad: bytes) -> None:
    ns = len(bad) + 1
    img = (
        b"BRCM" + (1).to_bytes(4, "little") + (12).to_bytes(4, "little")
        + (16).to_bytes(4, "little") + (1).to_bytes(4, "little") + (12 + ns).to_bytes(4, "little")
        + ns.to_bytes(4, "little")
        + (1).to_bytes(4, "little") + (12 + ns).to_bytes(4, "little") + (1).to_bytes(4, "little") + bad + b"\0"
        + b"x"
    )
    with pytest.raises(InputError, match="unusable name"):
        extract_image(img, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ CLI


runner = CliRunner()


def test_cli_build_ls_extract(tmp_path: Path) -> None:
    _image(tmp_path)
    out = tmp_path / "fs.bin"
    r = runner.invoke(app, ["fs", "build", str(tmp_path / "src"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    img = out.read_bytes()
    assert img == build_image(tmp_path / "src")

    r = runner.invoke(app, ["fs", "ls", str(out)])
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert any(line.split() == ["7", f"0x{e.offset:08X}", e.sha256, "d/f"]
               for e in list_image(img) if e.path == "d/f" for line in lines)

    r = runner.invoke(app, ["fs", "ls", "--json", str(out)])
    import json
    assert r.exit_code == 0
    assert [FsEntry(**e) for e in json.loads(r.stdout)] == list_image(img)

    r = runner.invoke(app, ["fs", "extract", str(out), str(tmp_path / "x")])
    assert r.exit_code == 0
    assert read_tree(tmp_path / "x") == read_tree(tmp_path / "src")


def test_cli_wide_round_trip(tmp_path: Path) -> None:
    _image(tmp_path)
    out = tmp_path / "fs64.bin"
    assert runner.invoke(app, ["fs", "build", str(tmp_path / "src"), "-o", str(out), "--wide"]).exit_code == 0
    r = runner.invoke(app, ["fs", "ls", str(out)])
    assert r.exit_code == 2 and "--wide" in r.stderr and "Traceback" not in r.output
    assert runner.invoke(app, ["fs", "ls", "--wide", str(out)]).exit_code == 0
    assert runner.invoke(app, ["fs", "extract", "--wide", str(out), str(tmp_path / "x")]).exit_code == 0


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["fs", "ls", "{tmp}/missing.bin"], "file not found"),
        (["fs", "ls", "{tmp}/junk.bin"], "not a WicedFS image"),
        (["fs", "extract", "{tmp}/junk.bin", "{tmp}/x"], "not a WicedFS image"),
        (["fs", "build", "{tmp}/src", "-o", "{tmp}/fs.bin", "--max-size", "16"], "larger than its slot"),
        (["fs", "build", "{tmp}/src", "-o", "{tmp}/fs.bin", "--max-size", "lots"], "is not a size (e.g. 65536, 0x10000, 64k, 1M)"),
        (["fs", "build", "{tmp}/src", "-o", "{tmp}/src/fs.bin"], "inside the input folder"),
        (["fs", "build", "{tmp}/nope", "-o", "{tmp}/fs.bin"], "not a folder"),
    ],
)
def test_cli_errors_are_one_line(tmp_path: Path, args: list[str], fragment: str) -> None:
    _image(tmp_path)
    (tmp_path / "junk.bin").write_bytes(b"\x7fELF" + bytes(100))
    r = runner.invoke(app, [a.format(tmp=tmp_path) for a in args])
    assert r.exit_code == 2
    assert "Traceback" not in r.output and isinstance(r.exception, SystemExit)
    assert r.stderr.startswith("error: ") and fragment in r.stderr and r.stderr.count("\n") == 1
    assert not (tmp_path / "fs.bin").exists() and not (tmp_path / "src" / "fs.bin").exists()


# ------------------------------------------------------------------ the sample's reference image


SAMPLE = REPO / "samples" / "ota_demo"


@pytest.mark.skipif(
    not (SAMPLE / "filesystem.bin").exists() or not (SAMPLE / "resources").is_dir(),
    reason="samples/ota_demo/filesystem.bin (independent reference writer's output) is not in the tree yet",
)
def test_sample_resources_match_reference_writer() -> None:
    assert build_image(SAMPLE / "resources") == (SAMPLE / "filesystem.bin").read_bytes()


# ------------------------------------------------------------------ images as the SDK tool writes them


def test_reads_sdk_images_with_garbage_after_the_nul(tmp_path: Path) -> None:
    # mk_wicedfs leaves the filename field after the NUL uninitialised; the device's strncmp ignores it
    for name in ["a", "longer-name.txt"]:
        (tmp_path / name).write_bytes(name.encode())
    img = bytearray(build_image(tmp_path))
    for i in range(2):
        field = 28 + i * 28 + 12
        nul = img.index(0, field)
        img[nul + 1:field + 16] = b"\xAA" * (field + 16 - nul - 1)
    assert list_image(bytes(img)) == list_image(build_image(tmp_path))


def test_unprintable_names_are_escaped_in_listings_and_messages(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "new\nline").write_bytes(b"x")
    img = build_image(tmp_path / "src")
    assert [e.path for e in list_image(img)] == ["new\nline"]
    (tmp_path / "fs.bin").write_bytes(img)
    r = runner.invoke(app, ["fs", "ls", str(tmp_path / "fs.bin")])
    assert r.exit_code == 0 and r.stdout.count("\n") == 1 and r.stdout.rstrip().endswith("new\\nline")
    with pytest.raises(InputError, match=r"'new\\nline': content at") as err:
        list_image(img[:-1])
    assert "\n" not in str(err.value)
