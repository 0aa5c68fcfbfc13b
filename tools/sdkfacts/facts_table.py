"""The command line both sdkfacts scripts share: which mirror, the output key's label, print or merge the table."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_common(parser: argparse.ArgumentParser) -> None:
    """GIT_DIR, --label and --merge (the scripts add their own revision arguments)."""
    parser.add_argument("git_dir", type=Path)
    parser.add_argument("--label", default=None, help="key prefix in the output (default: the mirror's name)")
    parser.add_argument("--merge", type=Path, default=None, help="add the results to this JSON table instead of "
                        "printing them")


def label(args: argparse.Namespace) -> str:
    """The output key's prefix: --label, else the mirror folder's name (owner+name -> owner/name)."""
    return args.label or args.git_dir.resolve().parent.name.replace("+", "/")


def emit(found: dict[str, Any], merge: Path | None) -> None:
    """Print the results as JSON, or add them to (refresh them in) the committed table, keys sorted."""
    if merge is None:
        json.dump(found, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return
    table = json.loads(merge.read_text()) if merge.exists() else {}
    table.update(found)
    merge.write_text(json.dumps(dict(sorted(table.items())), indent=1) + "\n")
