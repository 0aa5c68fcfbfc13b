"""One command for the whole fuzz campaign (issue 7):

    .venv/bin/python fuzz/run.py                  # >= 1,000,000 inputs in total, both cores
    .venv/bin/python fuzz/run.py --quick          # a short seeded run (CI)

Targets: fuzz_config.py (atheris: bundle.toml and board layouts), fuzz_inspect.py (atheris: inspect on arbitrary
bytes, auto-detected or forced kinds), mutate_images.py (seeded mutations of whole MCU/SFLASH images and DCT copies,
inspected alone and against the manifest), hostile.py (seeded hostile classes: deep/wide WicedFS, huge HEX spans,
nesting, odd keys, control characters). Each input must give a clean result or a clean one-line error within
10 s and 1 GiB. Crashes are written to fuzz/crashes/; each one found becomes a file under
tests/fuzz_corpus/regressions/ that tests/test_fuzz_regressions.py replays."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SAMPLE = ROOT / "samples" / "ota_demo"
# of the total inputs (inspect: ~75/s, config ~4000/s, hostile: ~3/s: its inputs are large by design)
SHARES = {"config": 0.845, "inspect": 0.14, "images": 0.01, "hostile": 0.005}
MAX_LEN = 8192  # atheris inputs: small inputs keep inspect at ~350 inputs/s


def prepare(work: Path) -> Path:
    """Build the sample and write the inspect seeds (its small artefacts)."""
    sys.path.insert(0, str(ROOT))
    from bundler.build import build_bundle
    from bundler.stream import to_bytes

    out = work / "out"
    bundle = build_bundle(SAMPLE / "bundle.toml", out)
    seeds = work / "seeds-inspect"
    seeds.mkdir()
    (seeds / "dct").write_bytes(bundle.dct)
    (seeds / "lut").write_bytes(bundle.sflash.read(0, 4096))
    for region in bundle.sflash.regions:
        (seeds / region.name).write_bytes(to_bytes(bundle.sflash.region_bytes(region))[:MAX_LEN])
    shutil.copy(SAMPLE / "build" / "app.hex", seeds / "app.hex")
    return out


def atheris_job(script: str, runs: int, seed: int, corpus: Path, seeds: Path) -> list[str]:
    corpus.mkdir(parents=True, exist_ok=True)
    return [sys.executable, str(HERE / script), f"-runs={runs}", f"-seed={seed}", f"-max_len={MAX_LEN}",
            "-rss_limit_mb=1024", "-timeout=10", f"-artifact_prefix={HERE / 'crashes'}/", "-print_final_stats=0",
            str(corpus), str(seeds)]


def run(name: str, cmd: list[str], cwd: Path) -> tuple[str, int, int, float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    text = proc.stdout + proc.stderr
    done = re.findall(r"Done (\d+) runs", text)
    return name, proc.returncode, int(done[-1]) if done else 0, time.perf_counter() - start, text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1_000_000, help="total inputs over all targets")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="parallel processes")
    parser.add_argument("--quick", action="store_true", help="CI: 6000 inputs")
    args = parser.parse_args()
    total = 6000 if args.quick else args.runs
    (HERE / "crashes").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bundle-fuzz-") as tmp:
        work = Path(tmp)
        out = prepare(work)
        per_job = {name: max(1, int(total * share)) for name, share in SHARES.items() if name != "config"}
        per_job["config"] = total - sum(per_job.values())
        jobs = []
        # split the atheris targets in two halves with different seeds so both cores stay busy
        for half in (0, 1):
            config, inspect = (n // 2 if half == 0 else n - n // 2 for n in (per_job["config"], per_job["inspect"]))
            jobs.append((f"config#{half}", atheris_job("fuzz_config.py", config, args.seed + half,
                                                       work / f"corpus-config-{half}", HERE / "seeds" / "config")))
            jobs.append((f"inspect#{half}", atheris_job("fuzz_inspect.py", inspect, args.seed + half,
                                                        work / f"corpus-inspect-{half}", work / "seeds-inspect")))
        jobs.append(("images", [sys.executable, str(HERE / "mutate_images.py"), str(out), str(per_job["images"]),
                                str(args.seed)]))
        jobs.append(("hostile", [sys.executable, str(HERE / "hostile.py"), str(out), str(per_job["hostile"]),
                                 str(args.seed)]))
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda job: run(job[0], job[1], HERE), jobs))
    failed = 0
    print(f"{'target':<12} {'inputs':>10} {'seconds':>8}  result")
    for name, code, runs, seconds, text in results:
        ok = code == 0
        failed += not ok
        print(f"{name:<12} {runs:>10} {seconds:>8.1f}  {'ok' if ok else 'CRASH'}")
        if not ok:
            print("\n".join(text.splitlines()[-25:]))
    print(f"{'total':<12} {sum(r[2] for r in results):>10}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
