"""The DCT (device configuration table) from a `[dct]` table of bundle.toml, and back.

Library used by `bundle build` (DCT copy 1 in the MCU image, the DCT image in SFLASH), `bundle dct decode`, and
per-unit serialization. Structures: `bundler.formats.dct` (3.5.2 `platform_dct.h`). Rules:
../shared/docs/wiced-formats.md §2. One module per job (import from them directly):

- `options`  the DCT layout a board has (`DctOptions`, `options_for_board`)
- `fields`   one value <-> its bytes (C strings, MACs, enums, passphrases, SSIDs, country codes)
- `codec`    the model <-> DCT bytes section by section, the SDK defaults (`decode_dct`)
- `app`      the application's section (`[dct.app]`: file, hex or a struct laid out as GCC would)
- `config`   a `[dct]` table -> DCT bytes (`build_dct`)
- `copies`   CRC, copy validity, which copy the bootloader uses, where the per-unit fields are
- `secrets`  which fields are secrets; redaction
- `locate`   finding the DCT in a blob, ELF, MCU image (raw or HEX) or SFLASH image (`load_dct_input`)
- `image`    the SFLASH DCT image component: an ELF with one PT_LOAD at DCT copy 1 (`dct_image_elf`)
- `toml_out` the model as text (`dct_to_toml`, `flatten`)
"""
