"""The PyInstaller spec's exclusions, the bundle check and the frozen app's runtime hook.

Fast (no build): the spec is read as text (its lists are literals), the app's code is
scanned as syntax trees.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "installer" / "timbre_studio.spec"
RTHOOK = ROOT / "installer" / "hooks" / "rthook_timbre.py"
EXCLUDE_LISTS = ("TEST_ONLY_EXCLUDES", "OPTIONAL_EXCLUDES", "CUDA_MODULES")
OPTIONAL_OK = {"ImportError", "ModuleNotFoundError"}

sys.path.insert(0, str(ROOT / "installer" / "linux"))
import check_bundle  # noqa: E402


def spec_lists() -> dict[str, list[str]]:
    tree = ast.parse(SPEC.read_text(encoding="utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) \
                and node.targets[0].id in EXCLUDE_LISTS + ("CUDA_LIBRARIES",):
            found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


def excluded() -> set[str]:
    lists = spec_lists()
    return {name for key in EXCLUDE_LISTS for name in lists[key]}


def _is_excluded(module: str, names: set[str]) -> bool:
    return any(module == n or module.startswith(n + ".") for n in names)


def _guarded(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Inside a ``try`` whose handlers catch ImportError (the optional-import pattern)."""
    while node in parents:
        child, node = node, parents[node]
        if isinstance(node, ast.Try) and child in node.body:
            for handler in node.handlers:
                types = handler.type.elts if isinstance(handler.type, ast.Tuple) \
                    else [handler.type]
                if any(isinstance(t, ast.Name) and t.id in OPTIONAL_OK for t in types):
                    return True
    return False


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def unguarded_uses(path: Path, names: set[str]) -> list[str]:
    """Imports (statements, ``importlib.import_module("...")``) and attribute uses
    (``librosa.effects``) of an excluded module that no ``except ImportError`` guards."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Call) and _dotted(node.func) in (
                "importlib.import_module", "import_module", "__import__") and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            modules = [node.args[0].value]
        elif isinstance(node, ast.Attribute) and not isinstance(parents.get(node), ast.Attribute):
            dotted = _dotted(node)
            modules = [dotted] if dotted and "." in dotted else []
        hits = [m for m in modules if _is_excluded(m, names)]
        if hits and not _guarded(node, parents):
            found.append(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:"
                         f"{node.lineno}: {hits[0]}")
    return found


def app_sources() -> list[Path]:
    return sorted([*ROOT.glob("backend/**/*.py"), *ROOT.glob("desktop/**/*.py"),
                   ROOT / "installer" / "entry.py", RTHOOK])


def test_the_app_never_needs_an_excluded_module() -> None:
    names = excluded()
    assert {"pytest", "transformers", "tensorboard", "sklearn", "nvidia"} <= names
    found = [hit for path in app_sources() for hit in unguarded_uses(path, names)]
    assert not found, "the bundle leaves these out, but the app imports them:\n" + \
        "\n".join(found)


def test_the_scan_sees_every_way_of_using_a_module(tmp_path: Path) -> None:
    src = tmp_path / "probe.py"
    src.write_text(
        "import importlib\nimport scipy.signal\nfrom sklearn import cluster\n"
        "import librosa\nx = librosa.effects.trim\ny = importlib.import_module('pytest')\n"
        "try:\n    import tensorboard\nexcept ImportError:\n    tensorboard = None\n"
        "try:\n    import jiwer\nexcept ValueError:\n    pass\n", encoding="utf-8")
    hits = unguarded_uses(src, {"scipy", "sklearn", "librosa.effects", "pytest",
                                "tensorboard", "jiwer"})
    assert [h.split(": ")[1] for h in hits] == ["scipy.signal", "sklearn", "librosa.effects.trim",
                                               "pytest", "jiwer"]


@pytest.mark.parametrize("needed", ["torch", "numpy", "scipy", "librosa", "soundfile",
                                    "sounddevice", "faiss", "PySide6", "pyqtgraph",
                                    "pocketsphinx", "phonemizer", "espeakng_loader",
                                    "pypinyin", "torchcrepe", "faster_whisper", "ctranslate2",
                                    "imageio_ffmpeg", "monotonic_alignment_search", "numba",
                                    "llvmlite", "av", "sympy"])
def test_what_the_app_runs_on_is_never_excluded(needed: str) -> None:
    assert not _is_excluded(needed, excluded())


def test_cuda_library_patterns_leave_cpu_libraries_alone() -> None:
    import fnmatch

    patterns = spec_lists()["CUDA_LIBRARIES"]

    def hit(name: str) -> bool:
        return any(fnmatch.fnmatch(name, p) for p in patterns)

    assert hit("libcudnn.so.9") and hit("libcublasLt.so.12") and hit("cudart64_12.dll")
    for kept in ("libtorch_cpu.so", "libc10.so", "libgomp-e985bcbb.so.1.0.0",
                 "libctranslate2-a7a60d30.so.4.8.5", "libportaudio.so.2", "libcurl.so.4"):
        assert not hit(kept), kept


# the bundle check (installer/linux/check_bundle.py) ----------------------------------------
def _toc(workdir: Path, entries: list[tuple[str, str, str]]) -> Path:
    workdir.mkdir(parents=True)
    (workdir / "PYZ-00.toc").write_text(repr(("PYZ-00.pyz", entries)), encoding="utf-8")
    return workdir


def _root_modules(root: Path) -> list[tuple[str, str, str]]:
    entries = []
    for pkg in ("backend", "desktop"):
        (root / pkg / "sub").mkdir(parents=True)
        for rel in ("__init__.py", "sub/__init__.py", "sub/job.py"):
            (root / pkg / rel).write_text("", encoding="utf-8")
        entries += [(pkg, str(root / pkg / "__init__.py"), "PYMODULE"),
                    (f"{pkg}.sub", str(root / pkg / "sub" / "__init__.py"), "PYMODULE"),
                    (f"{pkg}.sub.job", str(root / pkg / "sub" / "job.py"), "PYMODULE")]
    return entries


def test_bundle_check_passes_this_checkouts_code(tmp_path: Path) -> None:
    root = tmp_path / "checkout ü"
    entries = _root_modules(root) + [("numpy", "/venv/numpy/__init__.py", "PYMODULE")]
    assert check_bundle.problems(_toc(tmp_path / "work", entries), root) == []


def test_bundle_check_names_foreign_and_missing_modules(tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    entries = _root_modules(root)
    entries[1] = ("backend.sub", "/work/main/backend/sub/__init__.py", "PYMODULE")
    del entries[2]  # backend.sub.job: a module imported by name, not collected
    found = check_bundle.problems(_toc(tmp_path / "work", entries), root)
    assert found == [f"backend.sub comes from /work/main/backend/sub/__init__.py, not from "
                     f"{root.resolve()}", "backend.sub.job is not in the bundle"]


# the runtime hook ---------------------------------------------------------------------------
def _run_rthook(tmp_path: Path, code: str, **env: str) -> str:
    """Run the hook as the frozen app does (sys.frozen, sys._MEIPASS set), then ``code``."""
    meipass = tmp_path / "_internal ü"
    meipass.mkdir(exist_ok=True)
    script = ("import sys, runpy\nsys.frozen = True\n"
              f"sys._MEIPASS = {str(meipass)!r}\n"
              f"runpy.run_path({str(RTHOOK)!r})\n{code}")
    environ = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**environ, "PYTHONPATH": str(ROOT), **env}, timeout=60,
                          check=True)
    return proc.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's PortAudio lookup")
def test_rthook_makes_sounddevice_find_the_bundled_portaudio(tmp_path: Path) -> None:
    lib = tmp_path / "_internal ü" / "libportaudio.so.2"
    lib.parent.mkdir()
    lib.write_bytes(b"")
    out = _run_rthook(tmp_path, "import ctypes.util\nprint(ctypes.util.find_library('portaudio'))"
                      "\nprint(ctypes.util.find_library('c'))",
                      TIMBRE_DATA_DIR=str(tmp_path / "data"))
    assert out.splitlines() == [str(lib), "libc.so.6"]


def test_rthook_gives_numba_a_cache_in_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data ü"
    out = _run_rthook(tmp_path, "import os\nprint(os.environ['NUMBA_CACHE_DIR'])",
                      TIMBRE_DATA_DIR=str(data))
    assert out == str(data / "cache" / "numba")
    assert (data / "cache" / "numba").is_dir()
    mine = tmp_path / "mine"
    assert _run_rthook(tmp_path, "import os\nprint(os.environ['NUMBA_CACHE_DIR'])",
                       TIMBRE_DATA_DIR=str(data), NUMBA_CACHE_DIR=str(mine)) == str(mine)


# the spec's own logic, run with PyInstaller's classes and hooks stood in for -------------
class _Recorder:
    calls: dict[str, list[tuple[tuple, dict]]] = {}

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.calls.setdefault(type(self).__name__, []).append((args, kwargs))
        self.binaries = [("torch/lib/libtorch_cpu.so", "/x", "BINARY"),
                         ("torch/bin/test_api", "/x", "BINARY"),
                         ("torch/bin/torch_shm_manager", "/x", "BINARY"),
                         ("libcudnn.so.9", "/x", "BINARY"), ("libportaudio.so.2", "/x", "BINARY")]
        self.datas = [("torch/test/atest", "/x", "DATA"), ("resources/assets.json", "/x", "DATA")]
        self.pure, self.scripts = [], []


def _run_spec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, platform: str,
              **env: str) -> dict[str, list[tuple[tuple, dict]]]:
    import types

    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_data_files = lambda *a, **k: []  # type: ignore[attr-defined]
    hooks.collect_submodules = lambda *a, **k: [a[0]]  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for key in ("TIMBRE_FLAVOUR", "TIMBRE_BUNDLE_EXCLUDES"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    classes = {n: type(n, (_Recorder,), {"calls": {}}) for n in
               ("Analysis", "PYZ", "EXE", "COLLECT")}
    calls: dict[str, list[tuple[tuple, dict]]] = {}
    for cls in classes.values():
        cls.calls = calls
    namespace = {"SPECPATH": str(SPEC.parent), "workpath": str(tmp_path), **classes}
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    calls["_analysis"] = [((namespace["a"],), {})]
    return calls


def test_spec_on_windows_is_windowed_with_icon_and_version(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    calls = _run_spec(monkeypatch, tmp_path, "win32")
    (_, exe), = calls["EXE"]
    assert exe["name"] == "TimbreStudio" and exe["console"] is False
    if (ROOT / "resources" / "icons" / "timbre-studio.ico").is_file():
        assert exe["icon"] == str(ROOT / "resources" / "icons" / "timbre-studio.ico")
    if (ROOT / "installer" / "version_info.py").is_file():
        assert Path(exe["version"]).parent == tmp_path and Path(exe["version"]).is_file()
        assert "0.1.0" in Path(exe["version"]).read_text(encoding="utf-8")


def test_spec_on_linux_filters_cuda_and_torch_tests(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    calls = _run_spec(monkeypatch, tmp_path, "linux")
    (exe_args, exe), = calls["EXE"]
    assert exe["console"] is True and "icon" not in exe and "version" not in exe
    assert ("X utf8", None, "OPTION") in exe_args[2]  # UTF-8 mode, frozen too
    (args, analysis), = calls["Analysis"]
    assert args[0] == [str(ROOT / "installer" / "entry.py")]
    assert analysis["pathex"] == [str(ROOT)] and "pytest" in analysis["excludes"]
    assert {"backend", "desktop"} <= set(analysis["hiddenimports"])
    a = calls["_analysis"][0][0][0]
    assert [b[0] for b in a.binaries] == ["torch/lib/libtorch_cpu.so",
                                          "torch/bin/torch_shm_manager", "libportaudio.so.2"]
    assert [d[0] for d in a.datas] == ["resources/assets.json"]
    dests = {dest for _, dest in analysis["datas"]}
    assert {"resources", "docs", "."} <= dests


def test_spec_can_be_built_without_exclusions_to_measure_them(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    calls = _run_spec(monkeypatch, tmp_path, "linux", TIMBRE_BUNDLE_EXCLUDES="0")
    assert calls["Analysis"][0][1]["excludes"] == []
    assert len(calls["_analysis"][0][0][0].binaries) == 5
    with pytest.raises(SystemExit, match="TIMBRE_FLAVOUR must be 'cpu' or 'cuda'"):
        _run_spec(monkeypatch, tmp_path, "linux", TIMBRE_FLAVOUR="rocm")
