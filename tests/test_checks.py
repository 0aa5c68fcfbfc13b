"""The 3.5.2 device rules (bundler/checks.py) as build and inspect apply them: each case of issue 20 as a regression
test, with oracles that do not use bundler (struct readers, the SDK-like WicedFS reader of tests/sdk_wicedfs.py,
arm-none-eabi-ld / objcopy / readelf)."""

from __future__ import annotations

import json
import re
import struct
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bundler.cli import app
from bundler.formats.elf import PT_LOAD, build_elf
from sdk_wicedfs import ReadFailed, SdkWicedFs, sflash_component
from test_build_errors import build, edit

SECTOR = 4096
FS_INDEX, DCT_INDEX = 3, 1


def refused(result, out: Path, *patterns: str) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.output, result.output
    for pattern in patterns:
        assert pattern in lines[0], lines[0]
    assert not out.exists()
    return lines[0]


# ---- a WicedFS writer for the tests (struct only): lays entries out as mk_wicedfs does, in the order given


def fs_image(tree: dict[str, bytes | dict]) -> bytes:
    """`tree`: name -> bytes (file) or dict (folder), in table order (not sorted: the caller decides)."""

    def folder(node: dict[str, bytes | dict]) -> bytes:
        names = [n.encode() for n in node]
        fsize = max((len(n) for n in names), default=0) + 1
        entry = 12 + fsize
        table_end = 16 + entry * len(names)
        contents, entries, pos = b"", b"", table_end
        for i, (name, child) in enumerate(zip(names, node.values())):
            blob = child if isinstance(child, bytes) else folder(child)
            kind = 1 if isinstance(child, bytes) else 0
            entries += struct.pack("<IiI", kind, pos - (16 + entry * i), len(child) if kind else 0)
            entries += name.ljust(fsize, b"\0")
            contents += blob
            pos += len(blob)
        return struct.pack("<iIII", 16, len(names), entry, fsize) + entries + contents

    return struct.pack("<III", 0x4D435242, 1, 12) + folder(tree)


def lut(sflash: bytes, index: int) -> list[tuple[int, int]]:
    count = sflash[34 * index]
    return [struct.unpack_from("<HH", sflash, 34 * index + 2 + 4 * k) for k in range(count)]


# ---- vector tables


def test_raw_blob_as_app_is_refused_naming_its_stack_pointer(sample_copy: Path, tmp_path: Path) -> None:
    blob = sample_copy.parent / "firmware" / "43362A2-PLACEHOLDER.bin"
    sp = struct.unpack_from("<I", blob.read_bytes())[0]
    edit(sample_copy, 'app = "build/app.elf"', 'app = "firmware/43362A2-PLACEHOLDER.bin"')
    refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "firmware/43362A2-PLACEHOLDER.bin: [mcu] app",
            f"initial stack pointer 0x{sp:08X}", "SRAM")


def test_app_image_as_bootloader_is_refused_naming_its_reset_handler(sample_copy: Path, tmp_path: Path) -> None:
    raw = (sample_copy.parent / "build" / "app.bin").read_bytes()
    reset = struct.unpack_from("<I", raw, 4)[0]
    edit(sample_copy, 'bootloader = "build/bootloader.elf"', 'bootloader = "build/app.bin"')
    refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "build/app.bin: [mcu] bootloader",
            f"reset handler 0x{reset:08X} is outside bootloader")


def test_reset_handler_without_thumb_bit_is_refused(sample_copy: Path, tmp_path: Path) -> None:
    raw = bytearray((sample_copy.parent / "build" / "app.bin").read_bytes())
    raw[4] &= 0xFE
    (sample_copy.parent / "arm.bin").write_bytes(raw)
    edit(sample_copy, 'app = "build/app.elf"', 'app = "arm.bin"')
    refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "arm.bin: [mcu] app", "lacks the Thumb bit")


# ---- stored apps as the 3.5.2 loader sees them


def stored(tmp: Path, segments: list[tuple[int, int, bytes]], entry: int) -> Path:
    path = tmp / "stored.elf"
    path.write_bytes(build_elf([({"p_type": t, "p_vaddr": a, "p_paddr": a, "p_memsz": len(d), "p_flags": 5,
                                  "p_align": 4}, d) for t, a, d in segments], entry=entry))
    return path


def vectors(reset: int) -> bytes:
    return struct.pack("<IIII", 0x20020000, reset, reset, reset) + bytes(64)


def test_odd_non_load_segment_is_refused(sample_copy: Path, tmp_path: Path) -> None:
    path = stored(sample_copy.parent, [(PT_LOAD, 0x0800C000, vectors(0x0800C041)),
                                       (0x70000001, 0x0800C100, b"\x01" * 8)], 0x0800C041)
    # readelf sees the segment type the SDK loader would also copy (p_type & 1, p_filesz 8)
    out = subprocess.run(["arm-none-eabi-readelf", "-lW", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"EXIDX\s+0x\w+ 0x0800c100 0x0800c100 0x00008", out), out
    edit(sample_copy, 'fr_app = "build/ota_fr.stripped.elf"', 'fr_app = "stored.elf"')
    refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "stored.elf: [sflash] fr_app",
            "program header 1 has p_type 0x70000001", "PT_LOAD")


def test_even_non_load_segment_is_not_copied_and_accepted(sample_copy: Path, tmp_path: Path) -> None:
    stored(sample_copy.parent, [(PT_LOAD, 0x0800C000, vectors(0x0800C041)),
                                (0x70000000, 0x08000000, b"\x01" * 8)], 0x0800C041)
    edit(sample_copy, 'fr_app = "build/ota_fr.stripped.elf"', 'fr_app = "stored.elf"')
    assert build(sample_copy, tmp_path / "out").exit_code == 0


@pytest.mark.parametrize("entry, segments, expected", [
    (0x08100001, [(PT_LOAD, 0x0800C000, vectors(0x0800C041))], "entry point 0x08100001 is outside app"),
    (0x0800C101, [(PT_LOAD, 0x0800C100, vectors(0x0800C101))], "no segment loads at the start of app"),
    (0x0800C041, [(PT_LOAD, 0x0800C000, struct.pack("<II", 0x10000000, 0x0800C041) + bytes(8))],
     "initial stack pointer 0x10000000"),
    (0x0800C041, [(PT_LOAD, 0x0800C000, vectors(0x0800C041)), (PT_LOAD, 0x08008000, b"\x00" * 4)],
     "segment 1 loads at 0x08008000"),
])
def test_stored_app_rules(sample_copy: Path, tmp_path: Path, entry: int, segments, expected: str) -> None:
    stored(sample_copy.parent, segments, entry)
    edit(sample_copy, 'ota_app = "build/ota_fr.stripped.elf"', 'ota_app = "stored.elf"')
    refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "stored.elf: [sflash] ota_app", expected)


# ---- the DCT image: one program header at DCT copy 1, holding copy 1's bytes


def sdk_dct_elf(folder: Path, dct: bytes) -> Path:
    """A DCT ELF made by the GNU toolchain, as the SDK links DCT.elf (one loadable section at DCT copy 1)."""
    (folder / "dct.bin").write_bytes(dct)
    subprocess.run(["arm-none-eabi-objcopy", "-I", "binary", "-O", "elf32-littlearm", "-B", "arm",
                    "--rename-section", ".data=.rodata,alloc,load,readonly,data,contents", "dct.bin", "dct.o"],
                   cwd=folder, check=True)
    (folder / "dct.ld").write_text("SECTIONS { . = 0x08004000; .rodata : { *(.rodata) } }\n")
    subprocess.run(["arm-none-eabi-ld", "-T", "dct.ld", "-o", "DCT.elf", "dct.o"], cwd=folder, check=True)
    phdrs = subprocess.run(["arm-none-eabi-readelf", "-lW", "DCT.elf"], cwd=folder, capture_output=True, text=True,
                           check=True).stdout
    assert "There is 1 program header" in phdrs, phdrs
    return folder / "DCT.elf"


def objcopy_bytes(elf: Path) -> bytes:
    out = elf.with_suffix(".objcopy.bin")
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", str(elf), str(out)], check=True)
    return out.read_bytes()


@pytest.fixture()
def other_dct(sample_build) -> bytes:
    """The sample's DCT with another serial number (an SDK-built DCT that [dct] does not describe)."""
    _, bundle = sample_build
    dct = bytearray(bundle.dct)
    dct[0x1EC:0x1EC + 10] = b"SN99999999"
    return bytes(dct)


def drop_dct_table(config: Path) -> None:
    text = config.read_text()
    config.write_text(text[:text.index("[dct]")].replace('dct_image = "generated"', 'dct_image = "DCT.elf"'))


def test_sdk_dct_elf_alone_gives_copy_1(sample_copy: Path, tmp_path: Path, other_dct: bytes) -> None:
    elf = sdk_dct_elf(sample_copy.parent, other_dct)
    drop_dct_table(sample_copy)
    out = tmp_path / "out"
    assert build(sample_copy, out).exit_code == 0
    segment = objcopy_bytes(elf)
    assert segment == other_dct
    mcu = (out / "mcu.bin").read_bytes()
    assert mcu[0x4000:0x4000 + len(segment)] == segment
    assert set(mcu[0x4000 + len(segment):0x8000]) == {0xFF}
    sflash = (out / "sflash.bin").read_bytes()
    (start, count), = lut(sflash, DCT_INDEX)
    assert sflash[start * SECTOR:start * SECTOR + elf.stat().st_size] == elf.read_bytes()  # stored as given


def test_sdk_dct_elf_and_a_different_dct_table_are_refused(sample_copy: Path, tmp_path: Path,
                                                           other_dct: bytes) -> None:
    sdk_dct_elf(sample_copy.parent, other_dct)
    edit(sample_copy, 'dct_image = "generated"', 'dct_image = "DCT.elf"')
    line = refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "bundle.toml: [dct] and [sflash] dct_image",
                   "DCT.elf", "first difference at offset 0x1EE")
    assert "different" in line


def test_sdk_dct_elf_and_the_same_dct_table_build(sample_copy: Path, tmp_path: Path, sample_build) -> None:
    _, bundle = sample_build
    sdk_dct_elf(sample_copy.parent, bundle.dct)
    edit(sample_copy, 'dct_image = "generated"', 'dct_image = "DCT.elf"')
    assert build(sample_copy, tmp_path / "out").exit_code == 0


def test_dct_elf_holding_an_invalid_dct_is_refused(sample_copy: Path, tmp_path: Path, other_dct: bytes) -> None:
    bad = bytearray(other_dct)
    bad[0x14:0x18] = b"\x01\x02\x03\x04"  # platform_dct_header_t.crc32: neither 0 (factory form) nor the CRC
    sdk_dct_elf(sample_copy.parent, bytes(bad))
    drop_dct_table(sample_copy)
    refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "DCT.elf: DCT copy 1: not valid as DCT copy 1",
            "0x04030201")


def test_dct_elf_with_two_program_headers_is_refused(sample_copy: Path, tmp_path: Path, sample_build) -> None:
    _, bundle = sample_build
    (sample_copy.parent / "DCT.elf").write_bytes(build_elf(
        [({"p_type": PT_LOAD, "p_vaddr": a, "p_paddr": a, "p_memsz": len(d), "p_flags": 4, "p_align": 4}, d)
         for a, d in ((0x08004000, bundle.dct), (0x08004000 + 0x3F00, b"\x00" * 4))], entry=0))
    drop_dct_table(sample_copy)
    refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "DCT.elf: [sflash] dct_image: 2 program headers",
            "wiced_dct_load")


# ---- the filesystem: the reader inspect uses, names the device reaches, the readdir / fopen slack


def test_slash_named_prebuilt_filesystem_is_refused(sample_copy: Path, tmp_path: Path) -> None:
    (sample_copy.parent / "fs.bin").write_bytes(fs_image({"web/file000.bin": b"x" * 10}))
    edit(sample_copy, 'filesystem = "resources/"', 'filesystem = "fs.bin"')
    refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "fs.bin: [sflash] filesystem",
            "unusable name 'web/file000.bin'")


def test_unsorted_names_the_device_cannot_reach_are_refused(sample_copy: Path, tmp_path: Path) -> None:
    image = fs_image({"ab": b"1", "a": b"2"})
    assert SdkWicedFs(image + bytes(SECTOR)).open_and_read("a") == b"1"  # the device opens 'ab' for 'a'
    (sample_copy.parent / "fs.bin").write_bytes(image)
    edit(sample_copy, 'filesystem = "resources/"', 'filesystem = "fs.bin"')
    refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "fs.bin: [sflash] filesystem",
            "'a' comes after 'ab'")


FS_4091 = {"a": b"A" * 4005, "z": {"e": b""}}


def test_fs_4091_trips_the_sdk_reader_unpadded() -> None:
    """The oracle itself: the image of issue 20, in a component of exactly its one sector."""
    image = fs_image(FS_4091)
    assert len(image) == 4091
    fs = SdkWicedFs(image.ljust(SECTOR, b"\xff"))
    assert [n for n, _, _ in fs.listdir("")] == ["a", "z"]
    with pytest.raises(ReadFailed):
        fs.listdir("z")
    with pytest.raises(ReadFailed):
        fs.open_and_read("z/e")


@pytest.mark.parametrize("prebuilt", [False, True])
def test_fs_4091_is_padded_and_the_sdk_reader_reads_it_all(sample_copy: Path, tmp_path: Path, prebuilt: bool) -> None:
    folder = sample_copy.parent / "res4091"
    (folder / "z").mkdir(parents=True)
    (folder / "a").write_bytes(FS_4091["a"])
    (folder / "z" / "e").write_bytes(b"")
    if prebuilt:
        (sample_copy.parent / "fs.bin").write_bytes(fs_image(FS_4091))
        edit(sample_copy, 'filesystem = "resources/"', 'filesystem = "fs.bin"')
    else:
        edit(sample_copy, 'filesystem = "resources/"', 'filesystem = "res4091/"')
    out = tmp_path / "out"
    result = build(sample_copy, out)
    assert result.exit_code == 0, result.output
    assert "note: [sflash] filesystem" in result.output and "added 16 zero bytes" in result.output
    assert "'z'" in result.output
    sflash = (out / "sflash.bin").read_bytes()
    assert [count for _, count in lut(sflash, FS_INDEX)] == [2]  # 4107 bytes: two sectors
    fs = SdkWicedFs(sflash_component(sflash, FS_INDEX))
    assert fs.walk() == {"a": FS_4091["a"], "z/e": b""}
    region = next(r for a in json.loads((out / "manifest.json").read_text())["artefacts"] for r in a["regions"]
                  if r["name"] == "filesystem")
    assert region["size"] == 4107


def test_sample_filesystem_is_not_padded_and_reads_on_the_sdk_reader(sample_build) -> None:
    out, bundle = sample_build
    assert bundle.notes == []
    sflash = (out / "sflash.bin").read_bytes()
    files = SdkWicedFs(sflash_component(sflash, FS_INDEX)).walk()
    root = Path(__file__).resolve().parent.parent / "samples" / "ota_demo" / "resources"
    assert files == {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# ---- the chip and addresses


def test_address_with_an_elf_is_refused(sample_copy: Path, tmp_path: Path) -> None:
    edit(sample_copy, 'app = "build/app.elf"', 'app = { file = "build/app.elf", address = 0x08008000 }')
    refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "build/app.elf: [mcu] app: address 0x8008000",
            "an ELF is placed by its own physical addresses")


def test_chip_with_64k_sectors_is_refused(sample_copy: Path, tmp_path: Path) -> None:
    edit(sample_copy, 'chip = "MX25L8006E"',
         'chip = { name = "BIGSECT", jedec_id = 0xC22014, size = 0x100000, sector_size = 0x10000 }')
    refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "bundle.toml: chip BIGSECT: sector_size 65536",
            "4096")


# ---- sizes: what does not fit, by how much, and the chip that would hold it


@pytest.mark.parametrize("made_from", ["image", "folder"])
def test_too_large_filesystem_names_component_file_numbers_and_next_chip(made_from: str, sample_copy: Path,
                                                                        tmp_path: Path) -> None:
    """A prebuilt image, and a folder (its image is never built past the room left: its size is known first), are
    told alike: where the filesystem would end, the room it had, the overflow and the chip that would hold all."""
    if made_from == "image":
        big = fs_image({"big.bin": b"\x00" * (3 << 20)})
        (sample_copy.parent / "fs.bin").write_bytes(big)
        edit(sample_copy, 'filesystem = "resources/"', 'filesystem = "fs.bin"')
        shown = "fs.bin"
    else:
        from bundler.wicedfs import build_image

        (sample_copy.parent / "resources" / "big.bin").write_bytes(b"\x00" * (3 << 20))
        big = build_image(sample_copy.parent / "resources")  # made with no room limit: the size it would have
        shown = "resources/"
    line = refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", f"[sflash] filesystem ({shown})",
                   f"{len(big)} bytes", "past the end of chip MX25L8006E (1048576 bytes (0x100000))", "too many",
                   "the smallest chip that holds them is")
    m = re.search(r"sectors (\d+)-(\d+) would end at 0x([0-9A-F]+).*room from 0x([0-9A-F]+) is (\d+) bytes.*need "
                  r"(\d+) bytes .*, (\d+) bytes .*too many.*holds them is (\S+) \((\d+) bytes", line)
    assert m, line
    first, last, end, start, room, need, over, chip, size = m.groups()
    assert int(last) - int(first) + 1 == len(big) // SECTOR + 1 and int(end, 16) == (int(last) + 1) * SECTOR
    assert int(room) == 0x100000 - int(start, 16) and int(need) - int(over) == 0x100000
    assert int(size) >= int(need) and int(size) // 2 < int(need)  # the next size up of the chips.toml sizes


def test_too_large_app_names_region_room_and_overflow(sample_copy: Path, tmp_path: Path) -> None:
    raw = (sample_copy.parent / "build" / "app.bin").read_bytes()
    (sample_copy.parent / "huge.bin").write_bytes(raw + bytes(0xF4000 + 0x190 - len(raw)))
    edit(sample_copy, 'app = "build/app.elf"', 'app = "huge.bin"')
    refused(build(sample_copy, tmp_path / "out"), tmp_path / "out", "huge.bin: app segment 0x0800C000-0x0810018F",
            "outside region app 0x0800C000-0x080FFFFF (999424 bytes (0xF4000))", "would end at 0x08100190",
            "room from 0x0800C000 is 999424 bytes", "400 bytes (0x190) too many")


# ---- inspect applies the same rules; --manifest: identity first, content second


def inspect(*args: str | Path) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["inspect", *map(str, args), "--json"])
    return result.exit_code, json.loads(result.output)


def findings(doc: dict, code: str) -> list[dict]:
    return [f for d in doc["files"] for f in d["findings"] if f["code"] == code]


def test_inspect_warns_on_the_unpadded_4091_image_naming_z(tmp_path: Path) -> None:
    (tmp_path / "fs.bin").write_bytes(fs_image(FS_4091))
    code, doc = inspect(tmp_path / "fs.bin")
    assert code == 0 and doc["files"][0]["kind"] == "filesystem"
    messages = [f["message"] for f in findings(doc, "wicedfs_overread")]
    assert all(f["severity"] == "warning" for f in findings(doc, "wicedfs_overread"))
    assert any("directory 'z'" in m and "cannot list it" in m for m in messages), messages
    assert any("file 'z/e'" in m and "opening it fails" in m for m in messages), messages
    (tmp_path / "padded.bin").write_bytes(fs_image(FS_4091) + bytes(16))
    code, doc = inspect(tmp_path / "padded.bin")
    assert code == 0 and not findings(doc, "wicedfs_overread")


@pytest.fixture()
def old_build(sample_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Build as bundle did before the device rules, then restore them (the manifest then vouches for bytes the
    rules now refuse)."""

    def run(filesystem: bytes, rules: dict[str, object]) -> Path:
        (sample_copy.parent / "fs.bin").write_bytes(filesystem)
        edit(sample_copy, 'filesystem = "resources/"', 'filesystem = "fs.bin"')
        for name, value in rules.items():
            monkeypatch.setattr(name, value)
        out = tmp_path / "out"
        assert build(sample_copy, out).exit_code == 0
        monkeypatch.undo()
        return out

    return run


def test_slash_named_filesystem_verified_against_its_manifest_passes(old_build) -> None:
    out = old_build(fs_image({"web/file000.bin": b"x" * 10}), {"bundler.checks.NameTable.add": lambda self, n: None})
    code, doc = inspect(out / "sflash.bin")
    assert code == 1 and [f["severity"] for f in findings(doc, "filesystem")] == ["fail"]
    assert "unusable name 'web/file000.bin'" in findings(doc, "filesystem")[0]["message"]
    code, doc = inspect(out / "sflash.bin", "--manifest", out / "manifest.json")
    assert code == 0, doc
    f, = findings(doc, "filesystem")
    assert f["severity"] == "warning" and "web/file000.bin" in f["message"] and "manifest's" in f["message"]
    # bytes the manifest does not vouch for: the same content problem fails, besides the mismatch
    sflash = bytearray((out / "sflash.bin").read_bytes())
    (start, _), = lut(bytes(sflash), FS_INDEX)
    sflash[start * SECTOR + 40] ^= 1  # inside the entry's name
    (out / "changed.bin").write_bytes(sflash)
    code, doc = inspect(out / "changed.bin", "--manifest", out / "manifest.json")
    assert code == 1 and findings(doc, "region_mismatch")
    assert [f["severity"] for f in findings(doc, "filesystem")] == ["fail"]


def test_unpadded_filesystem_in_sflash_warns_and_verifies(old_build) -> None:
    out = old_build(fs_image(FS_4091), {"bundler.checks.filesystem_padding": lambda data, layout, what: (0, [])})
    sflash = (out / "sflash.bin").read_bytes()
    assert [count for _, count in lut(sflash, FS_INDEX)] == [1]
    with pytest.raises(ReadFailed):
        SdkWicedFs(sflash_component(sflash, FS_INDEX)).walk()
    for args in ((), ("--manifest", out / "manifest.json")):
        code, doc = inspect(out / "sflash.bin", *args)
        assert code == 0, doc
        messages = [f["message"] for f in findings(doc, "wicedfs_overread") if f["severity"] == "warning"]
        assert any(m.startswith("filesystem: directory 'z'") for m in messages), messages


def test_inspect_boot_summary_states_the_factory_reset_facts(sample_build) -> None:
    out, _ = sample_build
    code, doc = inspect(out / "mcu.bin")
    assert code == 0
    facts = doc["files"][0]["mcu"]["dct"]["boot"]["device_facts"]
    assert any("wiced_dct_load" in f and "wiced_dct_internal_common.c" in f for f in facts)
    assert any("wiced_framework_set_boot" in f and "wiced_dct_write" in f for f in facts)
    sheet = (out / "JOBSHEET.md").read_text()
    assert all(f in sheet for f in facts)
    assert "the factory-reset app (LUT entry 0) differs from the app in internal flash" in sheet


def test_factory_reset_app_compared_with_the_mcu_app(sample_build, sample_copy: Path, tmp_path: Path) -> None:
    out, _ = sample_build
    code, doc = inspect(out / "mcu.bin", out / "sflash.bin")
    assert code == 0
    note, = findings(doc, "factory_reset_app")
    assert "differs from the app in internal flash" in note["message"] and note["message"].endswith("mcu.bin")
    # the app itself as the factory-reset app: the same program (the MCU app is the unstripped ELF of it)
    edit(sample_copy, 'fr_app = "build/ota_fr.stripped.elf"', 'fr_app = "build/app.stripped.elf"')
    assert build(sample_copy, tmp_path / "same").exit_code == 0
    assert "a factory reset reinstalls the same program" in (tmp_path / "same" / "JOBSHEET.md").read_text()
    code, doc = inspect(tmp_path / "same" / "mcu.bin", tmp_path / "same" / "sflash.bin")
    note, = findings(doc, "factory_reset_app")
    assert "reinstalls the same program" in note["message"]


def test_the_unpadded_prebuilt_image_matches_its_padded_region(sample_copy: Path, tmp_path: Path) -> None:
    (sample_copy.parent / "fs.bin").write_bytes(fs_image(FS_4091))
    edit(sample_copy, 'filesystem = "resources/"', 'filesystem = "fs.bin"')
    out = tmp_path / "out"
    assert build(sample_copy, out).exit_code == 0
    code, doc = inspect(sample_copy.parent / "fs.bin", "--manifest", out / "manifest.json")
    assert code == 0 and doc["files"][0]["verification"]["region"] == "filesystem"
    assert any("zeros the build added" in f["message"] for f in findings(doc, "matches_region"))
