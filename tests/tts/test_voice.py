"""The voice pass: speech converted by a random-weight RVC model (real file format, real
conversion pipeline), sentence times kept and pauses silent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backend.jobs import speak as job
from backend.kernel import BadArgs, JobContext, JobError
from backend.tts.voice import regate
from tests.convert.rvc_files import write_rvc_layout
from tests.convert.tiny_voice import tiny_encoder_file
from tests.tts.tts_files import tiny_tts_file

TEXT = "Good morning. The weather is fine today!"


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("voice") / "stimmen – ünï 声"
    layout = write_rvc_layout(root / "rvc", "Åsa voice", "v2", "40k", True)
    return {"root": root, "tts": tiny_tts_file(root / "tiny tts.pth"), "voice": layout.model,
            "encoder": tiny_encoder_file(root, "v2")}


def _run(args: dict) -> tuple[dict, list[tuple[str, dict]]]:
    seen: list[tuple[str, dict]] = []
    ctx = JobContext("t", "speak", lambda e, d: seen.append((e, d)), min_interval=0)
    return job.run(job.prepare(args), ctx), seen


def test_speech_in_the_voice_of_a_voice_model(kit: dict[str, Path], tmp_path: Path) -> None:
    plain, _ = _run({"model": str(kit["tts"]), "text": TEXT, "out": str(tmp_path / "a.wav")})
    result, seen = _run({"model": str(kit["tts"]), "text": TEXT, "voice": str(kit["voice"]),
                         "voice_key": 4, "voice_f0": "pm", "voice_encoder": str(kit["encoder"]),
                         "out": str(tmp_path / "in the voice.wav")})
    assert (result["voice"], result["voice_key"], result["sample_rate"]) == \
        ("Åsa voice", 4, 40000)
    audio, rate = sf.read(result["out"], dtype="float32")
    assert rate == 40000
    assert result["seconds"] == pytest.approx(plain["seconds"], abs=0.01)
    assert result["sentences"] == plain["sentences"]
    stages = [d["stage"] for e, d in seen if e == "job.progress"]
    assert stages.index("speaking") < stages.index("converting")
    last = [(d["done"], d["total"]) for e, d in seen
            if e == "job.progress" and d["stage"] == "converting"][-1]
    assert last[0] == last[1] == pytest.approx(plain["seconds"], abs=0.01)
    first, second = result["sentences"]
    gap = audio[int(first["end"] * rate) + 90:int(second["start"] * rate) - 90]
    speech = audio[int(first["start"] * rate):int(first["end"] * rate)]
    assert gap.size > 0.3 * rate and np.max(np.abs(gap)) <= 1 / 32768
    # the voice model said something (quietly: it follows the loudness of the random TTS
    # model's speech below 8 kHz, and that model's output is mostly higher)
    assert np.sqrt(np.mean(speech ** 2)) > 1e-4


def test_a_bad_voice_is_refused_before_speaking(kit: dict[str, Path]) -> None:
    args = {"model": str(kit["tts"]), "text": TEXT, "voice_encoder": str(kit["encoder"]),
            "voice_f0": "pm"}
    with pytest.raises(BadArgs, match="key must be a number of semitones from -48 to 48"):
        job.prepare({**args, "voice": str(kit["voice"]), "voice_key": 60})
    with pytest.raises(JobError) as not_voice:  # the TTS model given as the voice
        job.prepare({**args, "voice": str(kit["tts"])})
    assert not_voice.value.code == "not_a_voice_model"
    assert not_voice.value.message == (
        "tiny tts.pth is a text-to-speech model, not a voice to speak in: choose it as the "
        "model that speaks, and as the voice a voice-conversion (RVC) model (.pth or .zip) "
        "of the models library")
    junk = kit["root"] / "notes.pth"
    junk.write_text("not a model")
    with pytest.raises(JobError, match="notes.pth is not a voice model") as not_model:
        job.prepare({**args, "voice": str(junk)})
    assert not_model.value.code == "not_a_voice_model"


def test_regate_keeps_the_sentences_and_silences_the_rest() -> None:
    rng = np.random.default_rng(0)
    noise = (0.3 * rng.standard_normal(8000)).astype(np.float32)
    out = regate(noise, 8000, [(0.1, 0.4), (0.6, 0.9)])
    assert not np.any(out[:800]) and not np.any(out[3200:4800]) and not np.any(out[7200:])
    assert np.allclose(out[1000:3000], noise[1000:3000] - noise[800:3200].mean(), atol=1e-6)
    assert abs(out[800]) < 0.05 and abs(out[3199]) < 0.05
