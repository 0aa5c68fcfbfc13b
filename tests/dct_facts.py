"""The compiled DCT layouts (tools/sdkfacts/dct_layout.json, made by tools/sdkfacts/dct_layout.py with
arm-none-eabi-gcc from each SDK's own headers) and which DCT generation and optional sections each entry is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TABLE: dict[str, Any] = json.loads((Path(__file__).resolve().parents[1] / "tools/sdkfacts/dct_layout.json").read_text())
AML = "amlweems/wiced-history@"
# table entry -> (generation, include_bt, include_p2p, include_ota2); a generation's name is one of its SDK versions
ENTRIES: dict[str, tuple[str, bool, bool, bool]] = {
    AML + "v3.1.1": ("3.1.2", False, False, False),
    AML + "v3.1.2": ("3.1.2", False, False, False),
    AML + "v3.1.2+WICED_DCT_INCLUDE_BT_CONFIG": ("3.1.2", True, False, False),
    AML + "v3.3.1": ("3.3.1", False, False, False),
    "kamejoko80/wiced-emw3165@HEAD": ("3.3.1", False, False, False),
    AML + "v3.3.1+WICED_DCT_INCLUDE_BT_CONFIG": ("3.3.1", True, False, False),
    AML + "v3.4.0": ("3.4.0", False, False, False),
    AML + "v3.4.0+WICED_DCT_INCLUDE_BT_CONFIG": ("3.4.0", True, False, False),
    AML + "v3.5.2": ("3.5.2", False, False, False),
    AML + "v3.5.2+WICED_DCT_INCLUDE_BT_CONFIG": ("3.5.2", True, False, False),
    AML + "v3.5.2+WICED_DCT_INCLUDE_P2P_CONFIG": ("3.5.2", False, True, False),
    AML + "v3.5.2+OTA2_SUPPORT": ("3.5.2", False, False, True),
    AML + "v3.7.0": ("3.7.0", False, False, False),
    "currantlabs/WICED-SDK-3.7.0-7@HEAD": ("3.7.0", False, False, False),
}
