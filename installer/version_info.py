"""The app's version, for the Windows executable's version resource and the installer.

``app_version()`` reads ``[project] version`` from ``pyproject.toml`` (the one place the
version is written). ``write_version_file(path)`` writes the text form of a PyInstaller
``VSVersionInfo`` that the spec passes to ``EXE(version=...)``, so Explorer's Properties
> Details and the Task Manager show "Timbre Studio" and the version.

Windows keeps a file version as four numbers from 0 to 65535. A release "1.2.3" becomes
(1, 2, 3, 0); a pre-, post- or development release ("0.1.0rc1", "1.0.post2", "2.0.dev3")
keeps its release numbers in the tuple and its full text in the FileVersion and
ProductVersion strings, so "0.1.0rc1" shows as 0.1.0.0 with "0.1.0rc1" beside it.
Anything else ("1.x", five numbers, a number over 65535) raises ``ValueError`` naming
the version and the file it came from.

Command line (used by installer/windows/build.ps1)::

    python installer/version_info.py                  # the version: 0.1.0
    python installer/version_info.py --numeric        # four numbers: 0.1.0.0
    python installer/version_info.py --write FILE     # write the version file
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

PRODUCT_NAME = "Timbre Studio"
COMPANY_NAME = "Timbre Studio"
EXE_NAME = "TimbreStudio.exe"
FILE_DESCRIPTION = "Timbre Studio: voice models from your own recordings"
COPYRIGHT = "Copyright \u00a9 Timbre Studio contributors"

# release numbers, then an optional PEP 440 suffix (a1, b2, rc1, .post1, .dev3, +local)
_VERSION = re.compile(
    r"v?(?P<release>\d+(?:\.\d+)*)"
    r"(?P<suffix>(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_.]?\d*)?"
    r"(?:[-_.]?(?:post|rev|r)[-_.]?\d*)?"
    r"(?:[-_.]?dev[-_.]?\d*)?"
    r"(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?)",
    re.IGNORECASE,
)


def _default_root() -> Path:
    # installer/ is a build folder, not a package the app imports: the checkout is its parent
    return Path(__file__).resolve().parents[1]


def app_version(root: str | Path | None = None) -> str:
    """``[project] version`` of ``<root>/pyproject.toml`` (root: the checkout by default)."""
    path = Path(root if root is not None else _default_root()) / "pyproject.toml"
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no pyproject.toml here; run from the checkout "
                                "or pass its folder") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    version = data.get("project", {}).get("version")
    if not isinstance(version, str) or not version.strip():
        raise ValueError(f"{path}: [project] has no version string; add e.g. version = \"0.1.0\"")
    return version.strip()


def numeric_version(version: str, source: str = "the version") -> tuple[int, int, int, int]:
    """The four 16-bit numbers Windows shows for ``version`` (see the module's docstring)."""
    match = _VERSION.fullmatch(version.strip())
    if not match:
        raise ValueError(f"{source}: version {version!r} is not a release like 1.2.3 "
                         "(optionally with a1/b1/rc1, .postN or .devN): Windows needs numbers")
    numbers = [int(part) for part in match["release"].split(".")]
    if len(numbers) > 4:
        raise ValueError(f"{source}: version {version!r} has {len(numbers)} numbers; "
                         "Windows keeps at most four")
    if any(n > 0xFFFF for n in numbers):
        raise ValueError(f"{source}: version {version!r} has a number over 65535, "
                         "which a Windows file version cannot hold")
    numbers += [0] * (4 - len(numbers))
    return (numbers[0], numbers[1], numbers[2], numbers[3])


def version_file_text(version: str, source: str = "the version") -> str:
    """The ``VSVersionInfo(...)`` text PyInstaller reads (its ``--version-file`` format)."""
    nums = numeric_version(version, source)
    strings = {
        "CompanyName": COMPANY_NAME,
        "FileDescription": FILE_DESCRIPTION,
        "FileVersion": version,
        "InternalName": "TimbreStudio",
        "LegalCopyright": COPYRIGHT,
        "OriginalFilename": EXE_NAME,
        "ProductName": PRODUCT_NAME,
        "ProductVersion": version,
    }
    structs = ",\n".join(f"          StringStruct({k!r}, {v!r})" for k, v in strings.items())
    # 040904B0: US English, Unicode (code page 1200): the pair Translation names below
    return f"""# -*- coding: utf-8 -*-
# Written by installer/version_info.py from pyproject.toml: do not edit.
VSVersionInfo(
  ffi=FixedFileInfo(
    filevers={nums!r},
    prodvers={nums!r},
    mask=0x3f,
    flags=0x0,
    OS=0x40004,
    fileType=0x1,
    subtype=0x0,
    date=(0, 0)
  ),
  kids=[
    StringFileInfo([
      StringTable(
        '040904B0',
        [
{structs}
        ])
    ]),
    VarFileInfo([VarStruct('Translation', [1033, 1200])])
  ]
)
"""


def write_version_file(path: str | Path, version: str | None = None) -> Path:
    """Write the version resource text for ``version`` (default: pyproject's) to ``path``."""
    source = "the given version"
    if version is None:
        version, source = app_version(), str(_default_root() / "pyproject.toml")
    text = version_file_text(version, source)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python installer/version_info.py",
                                     description="Print or write Timbre Studio's version.")
    parser.add_argument("--root", help="the checkout holding pyproject.toml (default: this one)")
    parser.add_argument("--numeric", action="store_true", help="print the four Windows numbers")
    parser.add_argument("--write", metavar="FILE", help="write the PyInstaller version file")
    ns = parser.parse_args(argv)
    try:
        version = app_version(ns.root)
        if ns.write:
            print(write_version_file(ns.write, version))
        elif ns.numeric:
            print(".".join(str(n) for n in numeric_version(version, "pyproject.toml")))
        else:
            print(version)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
