"""Small questions build.ps1 asks the build environment, one per command.

Kept in Python (not ``python -c "..."`` lines) because Windows PowerShell 5.1 mangles
double quotes inside arguments of native commands. Each prints one line::

    python installer/windows/build_checks.py torch-pin    # torch's pin in pyproject: 2.13.0
    python installer/windows/build_checks.py torch-cuda   # torch.version.cuda, or "none"
    python installer/windows/build_checks.py typing       # its version, or "absent"
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def torch_pin(root: Path = ROOT) -> str:
    """The version in pyproject's ``torch==X`` dependency (the one pin for every build)."""
    path = root / "pyproject.toml"
    with open(path, "rb") as fh:
        deps = tomllib.load(fh).get("project", {}).get("dependencies", [])
    for dep in deps:
        match = re.fullmatch(r"torch\s*==\s*([0-9][^\s;,]*)", dep.split(";")[0].strip())
        if match:
            return match[1]
    raise ValueError(f"{path}: no 'torch==<version>' in [project] dependencies; "
                     "the build installs exactly the pinned torch")


def torch_cuda() -> str:
    import torch  # only in the build environment, after torch was installed

    return torch.version.cuda or "none"


def typing_backport() -> str:
    """The installed version of PyPI's obsolete ``typing`` distribution, or "absent"."""
    for dist in importlib.metadata.distributions():
        if (dist.metadata["Name"] or "").lower() == "typing":
            return dist.version
    return "absent"


COMMANDS = {"torch-pin": torch_pin, "torch-cuda": torch_cuda, "typing": typing_backport}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in COMMANDS:
        print(f"usage: build_checks.py {{{'|'.join(COMMANDS)}}}", file=sys.stderr)
        return 2
    try:
        print(COMMANDS[args[0]]())
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
