"""``transcribe.engines`` through a real ``python -m backend serve`` process."""

from __future__ import annotations

from tests.backend.backend_proc import BackendProcess


def test_transcribe_engines_lists_engines_models_and_what_is_installed(tmp_path):
    data = tmp_path / "数据 dir"
    small = data / "assets" / "whisper" / "small"
    small.mkdir(parents=True)
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        (small / name).write_bytes(b"x")  # present is enough for "installed"
    (data / "assets" / "whisper" / "base").mkdir()
    (data / "assets" / "whisper" / "base" / "model.bin").write_bytes(b"x")  # incomplete
    backend = BackendProcess(env={"TIMBRE_DATA_DIR": str(data)})
    try:
        backend.event("backend.ready")
        reply = backend.reply(backend.send("transcribe.engines"))
    finally:
        backend.close()
    assert reply["type"] == "result", reply
    result = reply["result"]
    assert result["default"] == "pocketsphinx"
    engines = {e["name"]: e for e in result["engines"]}
    assert list(engines) == ["pocketsphinx", "faster-whisper"]
    sphinx, whisper = engines["pocketsphinx"], engines["faster-whisper"]
    assert sphinx["languages"] == ["en"] and sphinx["offline"] is True
    assert sphinx["models"] == [{"name": "en-us", "installed": True, "size": None,
                                 "asset": None}]
    assert whisper["languages"] is None and whisper["offline"] is False
    assert whisper["available"] is True and whisper["problem"] is None
    models = {m["name"]: m for m in whisper["models"]}
    assert list(models) == ["tiny", "base", "small", "medium", "large-v3", "large-v3-turbo"]
    assert models["small"] == {"name": "small", "installed": True, "size": 486_212_372,
                               "asset": "whisper-small"}
    assert models["base"]["installed"] is False  # three of its four files are missing
    assert all(m["size"] for m in models.values())
