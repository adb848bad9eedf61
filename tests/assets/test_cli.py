"""``python -m backend assets ...`` in a subprocess, against the local test server."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def _run(repo_root, env, *args):
    return subprocess.run([sys.executable, "-m", "backend", "assets", *args], cwd=repo_root,
                          env=env, capture_output=True, text=True, timeout=60)


def test_cli_download_list_import_remove(server, data_dir, write_catalogue, h, repo_root,
                                         unicode_dir):
    data = h.payload(200_000, seed=21)
    server.files["/cli.bin"] = data
    server.behaviour["/cli.bin"] = {"kind": "cut", "after": 50_000, "times": 1}
    urls = [server.url("/cli.bin"), server.url("/cli.bin")]
    write_catalogue([h.entry("cli-asset", urls, data),
                     h.entry("other", [server.url("/none.bin")], b"other bytes")])
    env = dict(os.environ)  # carries TIMBRE_DATA_DIR and TIMBRE_ASSET_CATALOGUE

    done = _run(repo_root, env, "download", "cli-asset", "--json", "--read-timeout", "5")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "ok" and summary["result"]["verified_by"] == "sha256"
    assert server.ranges("/cli.bin") == [None, "bytes=50000-"]
    target = data_dir / "assets" / "test dir" / "cli-asset.bin"
    assert target.read_bytes() == data

    table = _run(repo_root, env, "list")
    assert table.returncode == 0
    lines = table.stderr.splitlines()
    assert lines[0].split()[:4] == ["NAME", "KIND", "INSTALLED", "SIZE"]
    assert any(line.split()[:3] == ["cli-asset", "test", "yes"] for line in lines)
    assert any(line.split()[:3] == ["other", "test", "no"] for line in lines)
    listed = json.loads(_run(repo_root, env, "list", "--json").stdout)
    assert {a["name"]: a["installed"] for a in listed["result"]["assets"]} == {
        "cli-asset": True, "other": False}

    src = unicode_dir / "other copy.bin"
    src.write_bytes(b"other bytes")
    imported = _run(repo_root, env, "import", str(src), "--json")
    assert json.loads(imported.stdout)["result"]["name"] == "other", imported.stderr

    removed = _run(repo_root, env, "remove", "cli-asset", "--json")
    assert json.loads(removed.stdout)["result"]["was_installed"] is True
    assert not target.exists()

    failed = _run(repo_root, env, "download", "nonexistent", "--json")
    assert failed.returncode == 2
    assert "unknown asset 'nonexistent'" in json.loads(failed.stdout)["error"]["message"]
