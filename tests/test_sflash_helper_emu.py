"""Run the committed serial-flash helper ELF in unicorn against models of the STM32F2 SPI/GPIO/RCC and a JEDEC NOR
chip, driving the mailbox as the SDK's sflash_write.tcl does. Oracles: the NOR model's memory, zlib.crc32."""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from emu.host import CONFIG_LOC, RAM, Host, config_for
from emu.spinor import SpiNor
from emu.stm32 import Board, Wiring

ROOT = Path(__file__).resolve().parents[1]
HELPER = ROOT / "bundler" / "kit" / "sflash_helper.elf"

MX25L8006E = 0xC22014
CHIP = 0x100000
SECTOR = 4096
BUF = 16384

INITIAL_VERIFY, ERASE_CHIP, WRITE, POST_VERIFY, VERIFY_ERASURE, READ, WRITE_EIN = 1, 2, 4, 8, 0x10, 0x40, 0x80
CRC_SFLASH, CRC_MEMORY, READ_ID, ERASE_WRITE, ERASE_BLANK = 0x100, 0x200, 0x400, 0x800, 0x1000
OK, ERASE_FAILED, VERIFY_FAILED, TOO_BIG_BUFFER, TOO_BIG_CHIP, WRITE_FAILED, READ_FAILED = 0, 1, 2, 3, 4, 6, 7
JEDEC_MISMATCH, NOT_CONFIGURED = 8, 9


def make(jedec_id: int = MX25L8006E, *, wiring: Wiring = Wiring(), config_wiring: Wiring | None = None,
         expected: int = MX25L8006E, chip_size: int = CHIP, nor_status: int = 0, flags: int = 0,
         **over: int) -> tuple[Host, SpiNor]:
    nor = SpiNor(chip_size, jedec_id, status=nor_status)
    board = Board(nor, wiring)
    cfg = config_for(config_wiring or wiring, jedec_id=expected, chip_size=chip_size, flags=flags, **over)
    return Host(board, HELPER, cfg), nor


def image(size: int, seed: int = 1) -> bytes:
    """A mostly empty SFLASH-like image: some random sectors, some 0xFF sectors, a partial last sector."""
    rnd = random.Random(seed)
    out = bytearray(b"\xff" * size)
    for start in range(0, size, SECTOR):
        if rnd.random() < 0.6:
            n = rnd.randrange(1, SECTOR + 1)
            out[start:start + n] = rnd.randbytes(n)
    return bytes(out)


def program(host: Host, data: bytes, base: int = 0, cmd: int = WRITE_EIN | POST_VERIFY) -> None:
    for pos in range(0, len(data), BUF):
        chunk = data[pos:pos + BUF]
        assert host.command(cmd, base + pos, chunk) == OK, f"chunk at {pos:#x}"


def test_elf_mailbox_layout_matches_sdk_protocol() -> None:
    with open(HELPER, "rb") as fh:
        elf = ELFFile(fh)
        sections = {s.name: (s["sh_addr"], s["sh_size"]) for s in elf.iter_sections()}
        symbols = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()}
    assert sections[".data_config"] == (0x20000000, 12)
    assert sections[".data_transfer"] == (0x2000000C, 16)
    assert sections[".data_buffer"] == (0x2000001C, BUF)
    assert sections[".helper_config"] == (CONFIG_LOC, 0x60)
    board = Board(SpiNor(CHIP, MX25L8006E))
    board.load_elf(HELPER)
    assert board.read32(RAM) == symbols["helper_entry"] and symbols["helper_entry"] & 1   # Thumb entry
    assert board.read32(RAM + 4) == symbols["__stack_top"] == 0x20008000
    assert board.read32(RAM + 8) == BUF
    assert board.read32(RAM + 0x14) == 0                                   # no command pending after load


def test_program_image_byte_identical_and_crc() -> None:
    host, nor = make()
    data = image(100 * 1024 + 123)
    program(host, data)
    assert bytes(nor.mem[:len(data)]) == data
    assert all(b == 0xFF for b in nor.mem[len(data):])
    assert host.command(CRC_SFLASH, 0, size=len(data)) == OK
    assert int.from_bytes(host.data(4), "little") == zlib.crc32(data)
    # programming again is a no-op: every sector already matches
    erases = nor.sector_erases
    program(host, data)
    assert nor.sector_erases == erases


def test_erase_if_needed_keeps_bytes_outside_the_chunk() -> None:
    host, nor = make()
    old = bytes(random.Random(5).randbytes(3 * SECTOR))
    program(host, old)
    new = b"\x00\x11\x22" * 700
    assert host.command(WRITE_EIN | POST_VERIFY, SECTOR + 100, new) == OK
    expect = bytearray(old)
    expect[SECTOR + 100:SECTOR + 100 + len(new)] = new
    assert bytes(nor.mem[:3 * SECTOR]) == bytes(expect)


def test_erase_write_erases_every_sector_and_keeps_bytes_outside_the_range() -> None:
    """ERASE_WRITE (the line kit's sector-by-sector write): each sector of the range is erased even when blank; a
    sector the range covers in part gets its other bytes back."""
    host, nor = make()
    data = image(2 * SECTOR + 10, seed=7)
    assert host.command(ERASE_WRITE | POST_VERIFY, 0, data) == OK
    assert bytes(nor.mem[:len(data)]) == data and nor.sector_erases == 3       # blank chip: erased all the same
    old = random.Random(8).randbytes(SECTOR)
    nor.mem[4 * SECTOR:5 * SECTOR] = old
    new = b"\x5a" * 100
    assert host.command(ERASE_WRITE | POST_VERIFY, 4 * SECTOR + 50, new) == OK
    assert bytes(nor.mem[4 * SECTOR:5 * SECTOR]) == old[:50] + new + old[150:] and nor.sector_erases == 4


def test_erase_blank_erases_only_sectors_not_blank() -> None:
    """ERASE_BLANK: no data sent, any size; only the sectors with a non-0xFF byte in the range are erased (their
    bytes outside the range kept), and their number is returned in data[0]."""
    host, nor = make()
    nor.mem[2 * SECTOR + 7] = 0x00                 # old contents in sector 2
    nor.mem[9 * SECTOR + 4000] = 0x12              # sector 9, past the end of the first range
    nor.mem[30 * SECTOR] = 0x00                    # past both ranges: kept
    assert host.command(ERASE_BLANK, 0, size=9 * SECTOR + 3000) == OK   # more than a buffer: no buffer used
    assert host.data(4) == (1).to_bytes(4, "little") and nor.sector_erases == 1   # sector 9 is blank up to 3000
    assert nor.mem[2 * SECTOR + 7] == 0xFF and nor.mem[9 * SECTOR + 4000] == 0x12
    nor.mem[9 * SECTOR + 10] = 0x34                # sector 9, before the second range starts: kept
    assert host.command(ERASE_BLANK, 9 * SECTOR + 100, size=2 * SECTOR) == OK
    assert host.data(4) == (1).to_bytes(4, "little") and nor.sector_erases == 2
    assert nor.mem[9 * SECTOR + 4000] == 0xFF and nor.mem[9 * SECTOR + 10] == 0x34 and nor.mem[30 * SECTOR] == 0
    assert all(b == 0xFF for i, b in enumerate(nor.mem[:11 * SECTOR]) if i != 9 * SECTOR + 10)


def test_chip_erase_then_write_and_read_back() -> None:
    host, nor = make(chip_size=128 * 1024)        # the erasure check reads the whole chip over emulated SPI
    nor.mem[0:10] = b"\x00" * 10
    assert host.command(ERASE_CHIP | VERIFY_ERASURE) == OK
    assert nor.chip_erases == 1 and all(b == 0xFF for b in nor.mem)
    data = bytes(range(256)) * 20
    assert host.command(WRITE | POST_VERIFY, 0x1234, data) == OK
    assert host.command(READ, 0x1234, size=len(data)) == OK
    assert host.data(len(data)) == data == bytes(nor.mem[0x1234:0x1234 + len(data)])


def test_initial_verify_skips_identical_data() -> None:
    host, nor = make()
    data = b"\xa5" * 5000
    program(host, data)
    programs = nor.page_programs
    assert host.command(INITIAL_VERIFY | WRITE | POST_VERIFY, 0, data) == OK
    assert nor.page_programs == programs


def test_write_without_erase_to_programmed_page_fails_verify() -> None:
    host, nor = make()
    assert host.command(WRITE | POST_VERIFY, 0, b"\x0f" * 256) == OK
    assert host.command(WRITE | POST_VERIFY, 0, b"\xf0" * 256) == VERIFY_FAILED
    assert bytes(nor.mem[:256]) == b"\x00" * 256                          # program only clears bits


def test_wrong_jedec_id_is_refused() -> None:
    host, nor = make(jedec_id=0xBF258E)                                     # SST25VF080B fitted, MX25L8006E expected
    assert host.command(WRITE_EIN | POST_VERIFY, 0, b"\x00" * 16) == JEDEC_MISMATCH
    assert int.from_bytes(host.data(4), "little") == 0xBF258E
    assert host.board.read32(CONFIG_LOC + 0x58) == 0xBF258E
    assert nor.page_programs == nor.sector_erases == 0
    assert host.command(READ_ID) == OK and int.from_bytes(host.data(4), "little") == 0xBF258E


def test_oversized_chunk_and_past_chip_end() -> None:
    host, nor = make()
    assert host.command(WRITE_EIN | POST_VERIFY, 0, size=BUF + 1) == TOO_BIG_BUFFER
    assert host.command(WRITE_EIN | POST_VERIFY, CHIP - 16, b"\x00" * 32) == TOO_BIG_CHIP
    assert nor.page_programs == 0


def test_unconfigured_or_miswired_helper() -> None:
    nor = SpiNor(CHIP, MX25L8006E)
    host = Host(Board(nor), HELPER, None)                                   # ELF defaults: no SPI settings
    assert host.command(READ_ID) == NOT_CONFIGURED
    # helper told to use PB3 as SCK while the board uses PA5: the chip never answers
    wrong = Wiring(sck=(0x40020400, 3))
    host, nor = make(config_wiring=wrong)
    assert host.command(WRITE_EIN, 0, b"\x00") == JEDEC_MISMATCH
    assert int.from_bytes(host.data(4), "little") == 0xFFFFFF


def test_spi_settings_are_taken_from_config() -> None:
    """Another wiring (SPI2 on port B, CS on PC13): the helper must use only what the config says."""
    w = Wiring(spi_base=0x40003800, spi_rcc_enr=0x40023840, spi_rcc_bit=14, gpio_af=5,
               sck=(0x40020400, 13), miso=(0x40020400, 14), mosi=(0x40020400, 15), cs=(0x40020800, 13))
    host, nor = make(wiring=w)
    data = image(20 * 1024, seed=3)
    program(host, data)
    assert bytes(nor.mem[:len(data)]) == data


def test_block_protection_cleared_when_asked() -> None:
    host, nor = make(nor_status=0x1C)
    assert host.command(WRITE_EIN | POST_VERIFY, 0, b"\x12" * 64) == VERIFY_FAILED
    host, nor = make(nor_status=0x1C, flags=1)
    assert host.command(WRITE_EIN | POST_VERIFY, 0, b"\x12" * 64) == OK
    assert nor.mem[:64] == b"\x12" * 64


def test_crc_of_mcu_memory() -> None:
    host, _ = make()
    blob = random.Random(9).randbytes(0x3000)
    host.board.write(0x08000000, blob)
    assert host.command(CRC_MEMORY, 0x08000000, size=0x4000) == OK
    assert int.from_bytes(host.data(4), "little") == zlib.crc32(blob + b"\xff" * 0x1000)


def _toolchain() -> str:
    import subprocess

    try:
        return subprocess.run(["arm-none-eabi-gcc", "--version"], capture_output=True, text=True).stdout
    except OSError:
        return ""


@pytest.mark.skipif("12.2.1 20221205" not in _toolchain(), reason="needs the toolchain the ELF was built with")
def test_committed_helper_matches_sources() -> None:
    import subprocess

    r = subprocess.run([str(ROOT / "firmware" / "sflash_helper" / "build.sh"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_erase_if_needed_programs_erased_sectors_without_erasing() -> None:
    host, nor = make(chip_size=64 * 1024)
    assert host.command(ERASE_CHIP) == OK
    data = image(40 * 1024, seed=7)
    program(host, data)
    assert bytes(nor.mem[:len(data)]) == data and nor.sector_erases == 0
    # 0 -> 1 bits do need an erase, and the rest of that sector survives it
    assert host.command(WRITE_EIN | POST_VERIFY, 10, b"\xff" * 4) == OK
    assert nor.sector_erases == 1
    assert bytes(nor.mem[:10]) == data[:10] and bytes(nor.mem[14:len(data)]) == data[14:]


IWDG = range(0x40003000, 0x40003400)  # the watchdog the helper kicks while it works: the one peripheral it owns
SRAM = range(0x20000000, 0x20020000)


def test_unconfigured_helper_answers_9_and_touches_no_peripheral() -> None:
    """The committed ELF as it is (no SPI settings): every command, alone and as the kit sends them, gives result 9;
    no load or store reaches anything but SRAM and the watchdog (a zeroed config must not become GPIO port 0)."""
    from unicorn import (UC_HOOK_MEM_READ, UC_HOOK_MEM_UNMAPPED, UC_HOOK_MEM_WRITE, UC_MEM_WRITE,
                         UC_MEM_WRITE_UNMAPPED, UcError)

    nor = SpiNor(CHIP, MX25L8006E)
    board = Board(nor)
    stray: list[tuple[str, int]] = []

    def watch(uc: object, access: int, address: int, size: int, value: int, user: object) -> bool:
        if address not in SRAM and address not in IWDG and not 0x08000000 <= address < 0x08100000:
            stray.append(("write" if access in (UC_MEM_WRITE, UC_MEM_WRITE_UNMAPPED) else "read", address))
        return False  # an unmapped access still stops the run (and is recorded above)

    board.uc.hook_add(UC_HOOK_MEM_WRITE | UC_HOOK_MEM_READ, watch)
    board.uc.hook_add(UC_HOOK_MEM_UNMAPPED, watch)
    host = Host(board, HELPER, None)
    commands = [1 << bit for bit in range(11)] + [WRITE_EIN | POST_VERIFY, ERASE_CHIP, CRC_SFLASH, CRC_MEMORY]
    for cmd in commands:
        stray.clear()
        try:
            result: int | None = host.command(cmd, 0, b"\x5a" * 64)
        except UcError:  # stopped at an unmapped access: `stray` names it
            result = None
        assert stray == [], f"command {cmd:#x}: {[(k, hex(a)) for k, a in stray]}"
        assert result == NOT_CONFIGURED, hex(cmd)
    assert nor.page_programs == nor.sector_erases == nor.chip_erases == 0 and board.spi_bytes == 0
    # the same ELF configured by the host: a data command works as before
    host.board.write(CONFIG_LOC, config_for(Wiring(), jedec_id=MX25L8006E, chip_size=CHIP))
    assert host.command(WRITE_EIN | POST_VERIFY, 0, b"\x5a" * 64) == OK and nor.mem[:64] == b"\x5a" * 64
