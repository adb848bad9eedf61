"""The one sanitiser for user-typed names (backend/names.py), rule by rule."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.names import MAX_BYTES, is_utf8_name, safe_name, shown_name

DEVICES = ["CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
           *(f"LPT{i}" for i in range(1, 10))]


@pytest.mark.parametrize(("typed", "expected"), [
    ("../../x", "x"),
    ("..", "untitled"),
    (".", "untitled"),
    ("a/../b", "a_b"),
    ("AC/DC", "AC_DC"),
    ("back\\slash", "back_slash"),
    ("/etc/passwd", "etc_passwd"),
    ("C:\\Windows\\x", "C__Windows_x"),
    ("..\\..\\x", "x"),
    (".hidden", "hidden"),
    ("...dots", "dots"),
    ("Wait... what", "Wait. what"),
    ("x..y", "x.y"),
    ("trailing. ", "trailing"),
    ("trailing dots...", "trailing dots"),
    ("  spaced  out  ", "spaced out"),
    ("tab\tnew\nline", "tab new line"),
    ("nul\x00bell\x07esc\x1b", "nul_bell_esc_"),
    ("del\x7f", "del_"),
    ("\u202eevil.exe", "_evil.exe"),  # right-to-left override: a format character
    ('a<b>c:d"e|f?g*h', "a_b_c_d_e_f_g_h"),
    ("声音 模型", "声音 模型"),
    ("Ωmega ü é ß", "Ωmega ü é ß"),
    ("Голос", "Голос"),
    ("", "untitled"),
    ("   ", "untitled"),
    ("///", "untitled"),
])
def test_rules(typed: str, expected: str) -> None:
    assert safe_name(typed) == expected


@pytest.mark.parametrize("device", DEVICES)
def test_reserved_windows_names(device: str) -> None:
    assert safe_name(device) == f"{device}_"
    assert safe_name(device.lower()) == f"{device.lower()}_"
    assert safe_name(f"{device.lower()}.txt") == f"{device.lower()}_.txt"
    assert safe_name(f"{device} .tar.gz") == f"{device}_.tar.gz"
    assert safe_name(f"{device}.") == f"{device}_"


def test_names_that_only_start_like_a_device_are_kept() -> None:
    for name in ("CONSOLE", "console.txt", "COM10", "LPT", "NULL", "auxiliary"):
        assert safe_name(name) == name


def test_length_is_limited_in_utf8_bytes_without_splitting_a_character() -> None:
    long = "声" * 60  # 3 bytes each: 180 bytes
    out = safe_name(long)
    assert len(out.encode("utf-8")) <= MAX_BYTES and out == "声" * (MAX_BYTES // 3)
    assert safe_name("a" * 300) == "a" * MAX_BYTES
    assert safe_name("ab" + "é" * 60, max_bytes=11) == "abéééé"  # 2 + 4*2 = 10 bytes
    cut_at_dot = "x" * (MAX_BYTES - 1) + ". rest"
    assert safe_name(cut_at_dot) == "x" * (MAX_BYTES - 1)  # no trailing dot after the cut
    assert safe_name("CON" + "x" * 200, max_bytes=3) == "CO_"  # the cut made a device name


def test_fallback_and_display_name_untouched() -> None:
    assert safe_name("..", fallback="main") == "main"
    typed = "../../x"
    safe_name(typed)
    assert typed == "../../x"


def test_decomposed_letters_are_normalised() -> None:
    assert safe_name(unicodedata.normalize("NFD", "Zoë")) == "Zoë"


def test_shown_name_escapes_bytes_that_are_not_utf8() -> None:
    raw = os.fsdecode(b"bad\xff name.wav")
    assert not is_utf8_name(raw) and is_utf8_name("good é.wav")
    assert shown_name(raw) == "bad\\xff name.wav"
    assert shown_name(Path("/d") / raw) == "/d/bad\\xff name.wav"
    assert shown_name("ok é") == "ok é"


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_a_name_that_stays_in_its_folder(tmp_path_factory, text: str) -> None:
    out = safe_name(text)
    assert out and len(out.encode("utf-8")) <= MAX_BYTES
    assert not set(out) & set('/\\<>:"|?*')
    assert not any(unicodedata.category(c)[0] == "C" for c in out)
    assert ".." not in out and not out.startswith((".", " ")) and not out.endswith((".", " "))
    assert out.split(".")[0].rstrip(" ").upper() not in DEVICES
    assert safe_name(out) == out  # applying it twice changes nothing
    folder = tmp_path_factory.getbasetemp()
    assert (folder / out).parent == folder


def test_real_files_can_be_made_with_hostile_names(tmp_path: Path) -> None:
    for typed in ("../../x", "AC/DC", "CON", "a\x00b", "声" * 200, "..", ".env"):
        target = tmp_path / f"{safe_name(typed)}.pth"
        target.write_bytes(b"x")
        assert target.parent == tmp_path and target.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["x.pth", "AC_DC.pth", "CON_.pth", "a_b.pth", "声" * 33 + ".pth", "untitled.pth",
         "env.pth"])
