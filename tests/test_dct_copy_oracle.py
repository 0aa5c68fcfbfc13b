"""bundle's choice of the current DCT copy against each SDK's own code: tools/sdkfacts/dct_copy_oracle.py compiled
that revision's `wiced_dct_get_current_address` (and what it calls) for the STM32 bootloader and ran it in the
unicorn emulator on the two-copy images of tests/dct_copy_cases.py (hand-packed ones and DCTs build_dct makes); its
answers are committed in tools/sdkfacts/dct_copy_oracle.json. Here the same images are made again (their SHA-256
must be the ones the SDK's code saw) and bundler.dct.copies.choose_current must pick the same copy."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import bundler.formats.dct as F
from bundler.dct.copies import choose_current
from dct_copy_cases import COPY, TWO_COPY_CASES, Case, built_cases

ORACLE = json.loads((Path(__file__).resolve().parents[1] / "tools/sdkfacts/dct_copy_oracle.json").read_text())
CASES: dict[str, Case] = {**TWO_COPY_CASES, **built_cases()}
RUNS = [(rev, name) for rev, run in sorted(ORACLE.items()) for name in sorted(run["cases"])]


@pytest.mark.parametrize(("rev", "name"), RUNS)
def test_choice_is_the_sdks(rev: str, name: str) -> None:
    sdk = ORACLE[rev]["cases"][name]
    case = CASES[name]
    assert hashlib.sha256(case.copy1 + case.copy2).hexdigest() == sdk["sha256"], \
        f"{name}: not the bytes the SDK's code ran on (rerun tools/sdkfacts/dct_copy_oracle.py, see its README)"
    which, reason = choose_current(case.copy1, case.copy2, COPY, F.GENERATIONS[case.generation])
    assert which == sdk["copy"], (rev, name, reason)
    assert which == case.expected  # what the case says from reading the code


def test_every_case_and_generation_ran_on_sdk_code() -> None:
    ran = {name for rev, name in RUNS}
    assert ran == set(CASES)
    by_generation = {run["generation"] for run in ORACLE.values()}
    assert by_generation == {"3.1.2", "3.3.1", "3.4.0", "3.5.2", "3.7.0"}
    # both full trees as well as the amlweems tags
    assert {"kamejoko80/wiced-emw3165@HEAD", "currantlabs/WICED-SDK-3.7.0-7@HEAD"} <= set(ORACLE)
