"""installer/version_info.py (read back by PyInstaller's own parser) and the icons made by
installer/make_icon.py."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest
from PIL import Image

import backend

ROOT = Path(__file__).resolve().parents[2]
ICO_SIZES = {16, 24, 32, 48, 64, 128, 256}


def _load(relpath: str) -> types.ModuleType:
    """A module of installer/ (a folder of build scripts, not a package) by its path."""
    path = ROOT / relpath
    spec = importlib.util.spec_from_file_location(path.stem + "_under_test", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


version_info = _load("installer/version_info.py")
make_icon = _load("installer/make_icon.py")


@pytest.fixture
def pyi_versioninfo(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """PyInstaller's versioninfo module. On Linux it cannot import: it needs pefile (for
    reading and writing .exe files, which the text parser never does) and the Windows-only
    win32api; both are given empty stand-ins for the import, then everything is undone."""
    import PyInstaller.compat as compat

    if importlib.util.find_spec("pefile") is None:
        monkeypatch.setitem(sys.modules, "pefile", types.ModuleType("pefile"))
    if not hasattr(compat, "win32api"):
        monkeypatch.setattr(compat, "win32api", None, raising=False)
    name = "PyInstaller.utils.win32.versioninfo"
    was_loaded = name in sys.modules
    module = importlib.import_module(name)
    yield module
    if not was_loaded:
        sys.modules.pop(name, None)


def _strings(info) -> dict[str, str]:
    table = info.kids[0].kids[0]
    return {s.name: s.val for s in table.kids}


def test_pyinstaller_reads_the_version_file(pyi_versioninfo, tmp_path: Path) -> None:
    out = version_info.write_version_file(tmp_path / "build dir é" / "version.txt")
    assert out.is_file()
    info = pyi_versioninfo.load_version_info_from_text_file(str(out))
    assert repr(info.ffi).startswith("versioninfo.FixedFileInfo(filevers=(0, 1, 0, 0), "
                                     "prodvers=(0, 1, 0, 0),")
    strings = _strings(info)
    assert strings["ProductName"] == "Timbre Studio"
    assert strings["CompanyName"] == "Timbre Studio"
    assert strings["OriginalFilename"] == "TimbreStudio.exe"
    assert strings["FileVersion"] == strings["ProductVersion"] == "0.1.0"
    assert strings["FileDescription"] and "\u00a9" in strings["LegalCopyright"]
    # the 32-bit words of the binary resource (its struct layout is Windows' own, so
    # the bytes themselves are only checked on Windows, by PyInstaller)
    assert (info.ffi.fileVersionMS, info.ffi.fileVersionLS) == ((0 << 16) | 1, 0)
    assert (info.ffi.productVersionMS, info.ffi.productVersionLS) == ((0 << 16) | 1, 0)


def test_pre_release_keeps_its_numbers_and_its_text(pyi_versioninfo, tmp_path: Path) -> None:
    out = version_info.write_version_file(tmp_path / "v.txt", "0.1.0rc1")
    info = pyi_versioninfo.load_version_info_from_text_file(str(out))
    assert "filevers=(0, 1, 0, 0)" in repr(info.ffi)
    assert _strings(info)["ProductVersion"] == "0.1.0rc1"
    assert version_info.numeric_version("2.10.3.7") == (2, 10, 3, 7)
    assert version_info.numeric_version("1.0.post2") == (1, 0, 0, 0)
    assert version_info.numeric_version("3.1.dev4") == (3, 1, 0, 0)


@pytest.mark.parametrize(("version", "says"), [
    ("1.x", "not a release"), ("", "not a release"), ("1.2.3.4.5", "at most four"),
    ("70000.1", "over 65535"),
])
def test_versions_windows_cannot_hold_are_refused(version: str, says: str,
                                                  tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=says) as err:
        version_info.write_version_file(tmp_path / "v.txt", version)
    assert repr(version) in str(err.value)
    assert not (tmp_path / "v.txt").exists()


def test_app_version_reads_pyproject(tmp_path: Path) -> None:
    assert version_info.app_version() == backend.__version__
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "4.5.6"\n')
    assert version_info.app_version(tmp_path) == "4.5.6"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(ValueError, match="no version"):
        version_info.app_version(tmp_path)
    with pytest.raises(FileNotFoundError, match="nothing here|no pyproject"):
        version_info.app_version(tmp_path / "missing")


def test_command_line_prints_what_build_ps1_reads(capsys: pytest.CaptureFixture[str]) -> None:
    assert version_info.main(["--numeric"]) == 0
    assert capsys.readouterr().out.strip() == "0.1.0.0"
    assert version_info.main([]) == 0
    assert capsys.readouterr().out.strip() == "0.1.0"


def test_committed_icons_have_the_sizes_and_come_from_make_icon() -> None:
    png = Image.open(ROOT / "resources" / "icons" / "timbre-studio.png")
    assert png.size == (256, 256) and png.mode == "RGBA"
    ico = Image.open(ROOT / "resources" / "icons" / "timbre-studio.ico")
    assert {w for w, h in ico.info["sizes"] if w == h} == ICO_SIZES
    for size in sorted(ICO_SIZES):
        frame = ico.ico.getimage((size, size)).convert("RGBA")
        assert frame.size == (size, size)
        assert frame.getpixel((0, 0))[3] < 128, f"{size} px: the corner should be see-through"
        assert frame.getpixel((size // 2, size // 2))[3] == 255
        drawn = make_icon.draw_icon(size)
        diff = max(abs(a - b) for a, b in zip(frame.tobytes(), drawn.tobytes(), strict=True))
        assert diff <= 8, f"{size} px differs from make_icon.py's drawing: run it again"
