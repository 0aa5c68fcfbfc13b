"""`bundle inspect`: detect what an image file is, decode it, and verify it against a manifest.

A pure library: `inspect_paths` returns one JSON-ready report (schema: `schemas/inspect.schema.json`); rendering is
in `bundler.report`. Whatever the bytes, nothing raises out of `inspect_paths` for a file: problems become
*findings* with a severity:

- ``error``   the input could not be read or understood (unreadable, unknown kind)      -> exit 2
- ``fail``    a verification failed: the image differs from the manifest, or would not
              work on the device (no valid DCT copy, LUT entry past the chip, ...)       -> exit 1
- ``warning`` suspicious but the device would work (stale bytes in an unused sector, ...)
- ``note``    information (read-back longer than the artefact but only fill, ...)

Formats and rules: ../shared/docs/wiced-formats.md §1 (flash map), §2 (DCT, copy choice), §3 (LUT, stored ELF),
§4 (WicedFS), §6 (boot flow). Structures come from `bundler.formats`; nothing here unpacks bytes at fixed offsets.

One module per job: `batch` (the run: files, read-ahead, summary), `context` (what each step is given), `detect`
(what a file is), `image` (placed and size-checked), `scan` (fill runs), `sums` (checksums once per run), one
module per decoded thing (`mcu`, `vectors`, `dct`, `sflash`, `elf`, `filesystem`), `verify` (against the manifest).
"""

from .batch import inspect_paths
from .detect import KINDS

__all__ = ["KINDS", "inspect_paths"]
