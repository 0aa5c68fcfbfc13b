"""A file's bytes as the chip's image: placed from the flash base (Intel HEX), which SFLASH chip, and the size
checks (shorter fails; longer passes only if the extra bytes are all fill).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..checksums import hex32
from ..errors import hexsize
from .context import Context, FileReport, Loaded
from .scan import first_not

if TYPE_CHECKING:
    from ..layout import Chip


def mcu_image(rep: FileReport, item: Loaded, ctx: Context) -> bytes:
    """The file's bytes as they sit from the flash base: a HEX based above it is preceded by fill. Size checks."""
    mcu = ctx.board.mcu
    data = item.image
    if item.fmt == "hex":
        assert item.base is not None
        if item.base < mcu.flash_base:
            rep.add("fail", "outside_flash", f"HEX records start at 0x{item.base:08X}, below the flash base "
                    f"0x{mcu.flash_base:08X}", address=item.base)
            return data
        data = bytes([mcu.fill]) * (item.base - mcu.flash_base) + data
        if len(data) > mcu.flash_size:
            rep.add("fail", "outside_flash", f"HEX records end at 0x{mcu.flash_base + len(data) - 1:08X}, past the "
                    f"flash (0x{mcu.flash_base:08X}-0x{mcu.flash_base + mcu.flash_size - 1:08X})",
                    address=mcu.flash_base + mcu.flash_size)
        elif len(data) < mcu.flash_size:
            rep.add("note", "hex_partial", f"HEX records cover 0x{item.base:08X}-0x{mcu.flash_base + len(data) - 1:08X}; "
                    f"the rest of the flash is taken as erased (0x{mcu.fill:02X})")
            data = data + bytes([mcu.fill]) * (mcu.flash_size - len(data))
        return data
    return check_size(rep, data, mcu.flash_size, mcu.fill, "the MCU flash", mcu.flash_base, manifest=ctx.manifest)


def sflash_image(rep: FileReport, item: Loaded, ctx: Context) -> tuple[bytes, Chip]:
    chip = _chip_for(rep, len(item.image), ctx)
    data = item.image
    if item.fmt == "hex" and item.base:
        data = bytes([ctx.board.sflash.fill]) * item.base + data
    return check_size(rep, data, chip.size, ctx.board.sflash.fill, f"chip {chip.name}", 0,
                       manifest=ctx.manifest), chip


def check_size(rep: FileReport, data: bytes, size: int, fill: int, what: str, base: int,
               manifest: dict[str, Any] | None) -> bytes:
    """A read-back longer than the chip/flash passes if the extra bytes are all fill; shorter fails. With a manifest
    the artefact's size is checked instead (in `verify`)."""
    if manifest is not None:
        return data
    if len(data) > size:
        return cut_longer(rep, data, size, fill, what, base, "file")
    if len(data) < size:
        rep.add("fail", "truncated", f"file is {hexsize(len(data))}, shorter than {what} ({hexsize(size)}): "
                f"{hexsize(size - len(data))} missing from offset 0x{len(data):X} (address 0x{base + len(data):08X})",
                offset=len(data), address=base + len(data))
    return data


def cut_longer(rep: FileReport, data: bytes, size: int, fill: int, what: str, base: int, subject: str,
                compared: str = "") -> bytes:
    """`data` is longer than `what` (`size` bytes at address `base`): a read-back of a larger part passes (a note) if
    the extra bytes are all fill, else fails at the first other byte. Returns the first `size` bytes."""
    first = first_not(data, fill, size)
    if first is None:
        rep.add("note", "longer_fill", f"{subject} is {hexsize(len(data))}, {hexsize(len(data) - size)} longer than "
                f"{what}; the extra bytes are all 0x{fill:02X} (fill){compared}")
    else:
        rep.add("fail", "longer", f"{subject} is {hexsize(len(data))}, longer than {what} ({hexsize(size)}), and the "
                f"extra bytes are not all 0x{fill:02X}: first at offset 0x{first:X} (address 0x{base + first:08X})",
                offset=first, address=base + first)
    return data[:size]


def _chip_for(rep: FileReport, size: int, ctx: Context) -> Chip:
    if ctx.chip is not None:
        chip = ctx.chip
    else:
        sf = ctx.board.sflash
        by_name = {c.name: c for c in ctx.chips}
        preferred = [by_name[n] for n in (sf.chip, *sf.compatible_chips) if n in by_name]
        default = by_name.get(sf.chip) or ctx.chips[0]
        chip = next((c for c in preferred + ctx.chips if c.size == size), None)
        if chip is None:
            from ..layout import plausible_chip_size, unknown_chip

            # larger than the board's part and a chip's size: a whole dump of a part chips.toml does not list
            # (a smaller one is taken as a short read-back of the board's part)
            chip = unknown_chip(size, sf.sector_size, "from the file size") \
                if size > default.size and plausible_chip_size(size, sf.sector_size) else default
    rep.doc["chip"] = {"name": chip.name, "jedec_id": hex32(chip.jedec_id), "size": chip.size,
                       "sector_size": chip.sector_size}
    return chip
