"""backend.zipmembers: the one reader of zip packages (voice-conversion and text-to-speech)."""

from __future__ import annotations

import io
import zipfile

import pytest

from backend import zipmembers
from backend.convert import packages
from backend.models.vits.file_formats import TtsModelError
from backend.models.vits.file_package import extract_package_model


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_names_cards_and_the_copy_limit(tmp_path):
    z = _zip(tmp_path / "p.zip", {"a\\b/m.pth": b"x" * 2000, "model_card.json": b"{bad",
                                  "sub/card.json": b'{"name": "n"}'})
    with zipfile.ZipFile(z) as zf:
        infos = zf.infolist()
        assert zipmembers.base_name("a\\b/m.pth") == "m.pth"
        assert zipmembers.read_card(zf, infos, "model_card.json") == {}  # damaged: no name
        assert zipmembers.read_card(zf, infos, "card.json") == {"name": "n"}
        out = io.BytesIO()
        assert zipmembers.copy_member(zf, infos[0], out) == 2000
        with pytest.raises(zipmembers.MemberTooLarge):
            zipmembers.copy_member(zf, infos[0], io.BytesIO(), limit=1000)
    assert zipmembers.is_package(z) and packages.is_package(z)
    assert not zipmembers.is_package(_zip(tmp_path / "t.zip", {"archive/data.pkl": b"",
                                                              "x.pth": b""}))


def test_both_package_readers_refuse_an_oversized_model(tmp_path, monkeypatch):
    z = _zip(tmp_path / "big.zip", {"voice.pth": b"x" * 5000})
    monkeypatch.setattr(zipmembers, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(packages.PackageError, match="implausibly large"):
        packages.extract(z, tmp_path / "out")
    with pytest.raises(TtsModelError, match="implausibly large"):
        extract_package_model(z, tmp_path / "model.pth")
