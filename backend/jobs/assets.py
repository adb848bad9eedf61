"""Model assets: list, download, import or remove the files the app needs.

python -m backend assets list | download NAME | import PATH [--as NAME] | remove NAME [--json]

``import`` takes a folder too: a model of several files (a faster-whisper model folder) is
imported as its bundle, every file verified.

A bundle (a faster-whisper model: several files) downloads and is removed as one by its main
name (``whisper-small``); ``list`` shows it as one row.

Job args (server): {"action": "download", "name": NAME} or
{"action": "import", "path": PATH, "name": NAME|null}; optional "connect_timeout" and
"read_timeout" (seconds) and "force" (download again even if installed).
"list" and "remove" exist too, though the server also answers them as the quick commands
``assets.list`` and ``assets.remove``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.assets.catalogue import Asset, find_asset, load_catalogue
from backend.assets.download import Timeouts, download_bundle
from backend.assets.importer import folder_members, import_asset, import_folder
from backend.assets.store import data_dir, list_assets, remove_asset
from backend.kernel import BadArgs, JobContext

ACTIONS = ("list", "download", "import", "remove")


@dataclass(frozen=True)
class AssetsParams:
    action: str
    catalogue: dict[str, Asset]
    name: str | None = None
    path: Path | None = None
    timeouts: Timeouts = Timeouts()
    force: bool = False
    print_table: bool = False


def _timeout(args: dict, key: str, default: float) -> float:
    value = args.get(key)
    if value is None:
        return default
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 < value <= 3600:
        raise BadArgs(f"'{key}' must be a number of seconds between 0 and 3600")
    return float(value)


def prepare(args: dict) -> AssetsParams:
    action = args.get("action")
    if action not in ACTIONS:
        raise BadArgs(f"'action' must be one of {', '.join(ACTIONS)}")
    catalogue = load_catalogue()
    name = args.get("name")
    if name is not None and not isinstance(name, str):
        raise BadArgs("'name' must be an asset name")
    if action in ("download", "remove") and not name:
        raise BadArgs(f"'{action}' needs the asset 'name'")
    if name:
        name = find_asset(catalogue, name).name
    path = None
    if action == "import":
        raw = args.get("path")
        if not isinstance(raw, str) or not raw:
            raise BadArgs("'import' needs the 'path' of the file to import")
        path = Path(raw).expanduser()
        if not path.exists():
            raise BadArgs(f"cannot import {path}: no such file or folder")
        if path.is_dir() and name:
            folder_members(path, catalogue, catalogue[name])
    timeouts = Timeouts(_timeout(args, "connect_timeout", Timeouts.connect),
                        _timeout(args, "read_timeout", Timeouts.read))
    return AssetsParams(action, catalogue, name, path, timeouts, bool(args.get("force")),
                        bool(args.get("print_table")))


def run(params: AssetsParams, ctx: JobContext) -> dict:
    if params.action == "download":
        assert params.name is not None
        return download_bundle(params.catalogue, params.catalogue[params.name], ctx,
                               params.timeouts, force=params.force)
    if params.action == "import":
        assert params.path is not None
        if params.path.is_dir():
            return import_folder(params.path, params.catalogue, ctx, as_name=params.name)
        return import_asset(params.path, params.catalogue, ctx, as_name=params.name)
    if params.action == "remove":
        assert params.name is not None
        result = remove_asset(params.name, params.catalogue)
        if params.print_table:
            state = "removed" if result["was_installed"] else "was not installed"
            sys.stderr.write(f"{result['name']}: {state}\n")
        return result
    rows = list_assets(params.catalogue)
    if params.print_table:
        sys.stderr.write(format_table(rows) + "\n")
        installed = sum(r["installed"] for r in rows)
        return {"data_dir": str(data_dir()), "installed": installed,
                "missing": len(rows) - installed}
    return {"data_dir": str(data_dir()), "assets": rows}


def exclusive_key(params: AssetsParams) -> str | None:
    if params.action in ("download", "import", "remove"):
        return f"asset:{params.name or params.path}"
    return None


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n} B"


def format_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table: name, kind, installed?, size, how it was verified, needed by."""
    header = ("NAME", "KIND", "INSTALLED", "SIZE", "VERIFIED", "NEEDED BY")
    lines = [header]
    for r in rows:
        state = "yes" if r["installed"] else "no"
        if not r["installed"] and r.get("partial_bytes"):
            state = f"partial {_size(r['partial_bytes'])}"
        size = _size(r["installed_size"] if r["installed"] else r["size"])
        verified = str(r.get("verified_note") or "-").removeprefix("verified by ")
        lines.append((r["name"], r["kind"], state, size, verified, "; ".join(r["needed_by"])))
    widths = [max(len(line[i]) for line in lines) for i in range(5)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line[:5], widths, strict=True))
                     + "  " + line[5] for line in lines)


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the usage lines
    parser.add_argument("action", choices=ACTIONS, help="what to do")
    parser.add_argument("target", nargs="?",
                        help="asset NAME (download, remove) or file or model folder PATH (import)")
    parser.add_argument("--as", dest="as_name", metavar="NAME",
                        help="import: the asset this file is (default: recognise it)")
    parser.add_argument("--force", action="store_true",
                        help="download: fetch again even if installed")
    parser.add_argument("--connect-timeout", type=float, default=None, metavar="S",
                        help=f"seconds to wait for a server to answer ({Timeouts.connect:g})")
    parser.add_argument("--read-timeout", type=float, default=None, metavar="S",
                        help=f"seconds of silence before a download counts as stalled "
                             f"({Timeouts.read:g})")


def args_from_cli(ns: argparse.Namespace) -> dict:
    args: dict[str, Any] = {"action": ns.action, "force": ns.force,
                            "connect_timeout": ns.connect_timeout,
                            "read_timeout": ns.read_timeout,
                            "print_table": not getattr(ns, "json", False)}
    if ns.action == "import":
        args["path"] = ns.target
        args["name"] = ns.as_name
    else:
        args["name"] = ns.target
    return args
