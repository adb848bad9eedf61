"""The text-to-speech train job's checks before training, on a really prepared and labelled
project: unreadable texts named by line and clip, no labelled clips, the language, and what
``train.suggest`` says for text-to-speech."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from backend.commands.train import train_suggest
from backend.jobs import train
from backend.kernel import BadArgs
from tests.train.vits_job_project import cli, make_labelled_project, set_text, shown_rows


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_labelled_project(tmp_path_factory.mktemp("vits checks") / "Voix é 声",
                                 speakers=("Ann", "Bob"))


@pytest.fixture
def project(labelled: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy é"
    shutil.copytree(labelled, dst)
    return dst


def _args(project: Path, **extra: object) -> dict:
    return {"project": str(project), "model": "vits", "size": "tiny", "device": "cpu",
            **extra}


def test_a_labelled_project_gives_the_run_its_language_speakers_and_symbols(
        project: Path) -> None:
    params = train.prepare({"project": str(project), "size": "tiny"})  # the project's kind
    assert params.model == "vits" and params.language == "en"
    assert params.speakers == {"Ann": 0, "Bob": 1} and params.sample_rate == 22050
    assert params.duration == "stochastic" and params.learning_rate == 2e-4
    from backend.text import get

    assert params.symbols == tuple(get("en").symbols)
    assert train.prepare(_args(project, duration="deterministic")).duration == "deterministic"


def test_an_unreadable_text_is_named_by_line_and_clip_before_training(project: Path) -> None:
    rows = shown_rows(project)
    third = rows[2]
    set_text(project, third["id"], "Keep the room \U0001F600 quiet.")
    with pytest.raises(BadArgs) as err:
        train.prepare(_args(project))
    clip = f"{third['source_name']} 0:00.0–0:0{third['end']:.1f}"
    assert str(err.value) == (
        f"1 of the 4 labelled texts hold what the English text front-end cannot read: line 3 "
        f"({clip}): cannot read GRINNING FACE (U+1F600) at character 15. Write it out as "
        "words or remove it on the Labels page (Check texts finds them all), then train again")
    [found] = err.value.details["unreadable"]
    assert (found["id"], found["line"], found["clip"]) == (third["id"], 3, third["clip"])
    # the command line says the same, with exit status 2, and writes nothing
    code, out, _ = cli("train", "--project", str(project), "--model", "vits", "--size", "tiny",
                       "--device", "cpu")
    assert code == 2 and out["error"]["code"] == "bad_arguments"
    assert "line 3 (" in out["error"]["message"] and "GRINNING FACE" in out["error"]["message"]
    assert not (project / "train").exists()


def test_without_labelled_clips_the_job_says_where_to_label(project: Path) -> None:
    for row in shown_rows(project):
        set_text(project, row["id"], "")
    with pytest.raises(BadArgs, match=r"has no labelled clips: text-to-speech learns from "
                                      r"clips with their text; transcribe or type the texts "
                                      r"on the Labels page first$"):
        train.prepare(_args(project))


def test_a_language_without_labelled_clips_is_refused(project: Path) -> None:
    with pytest.raises(BadArgs) as err:
        train.prepare(_args(project, language="zh"))
    assert str(err.value).endswith("is in zh; the labelled clips are in en (4 clips): choose "
                                   "one of those languages, or set the rows' language on the "
                                   "Labels page")
    with pytest.raises(BadArgs, match="there is no text front-end for 'xx'"):
        train.prepare(_args(project, language="xx"))


def test_the_most_common_language_is_the_default(project: Path) -> None:
    rows = shown_rows(project)
    from backend.commands import labels as label_cmds

    label_cmds.apply({"project": str(project), "op": {"kind": "set", "ids": [rows[0]["id"]],
                                                      "fields": {"language": "zh",
                                                                 "text": "你好"}}}, None)
    params = train.prepare(_args(project))
    assert params.language == "en" and params.speakers == {"Ann": 0, "Bob": 1}


def test_suggest_for_text_to_speech_counts_the_labelled_audio(project: Path) -> None:
    got = train_suggest({"project": str(project)}, None)
    seconds = sum(r["end"] - r["start"] for r in shown_rows(project))
    assert got["model"] == "vits" and got["ready"] and got["problems"] == []
    assert got["labelled_rows"] == 4 and got["labelled_seconds"] == round(seconds, 1)
    assert got["language"] == "en" and got["speakers"] == ["Ann", "Bob"]
    text = got["suggestion"]["text"]
    assert text.startswith(f"You have {seconds:.0f} seconds of labelled speech (4 clips with "
                           "their text). Text-to-speech needs at least 5 minutes")
    assert got["suggestion"]["batch_size"] == 8 and got["suggestion"]["learning_rate"] == 2e-4
    # the voice-conversion recommendation for the same project, when asked for
    rvc = train_suggest({"project": str(project), "model": "rvc"}, None)
    assert rvc["model"] == "rvc" and "no features: run Extract first" in rvc["problems"]
    for row in shown_rows(project):
        set_text(project, row["id"], "")
    empty = train_suggest({"project": str(project)}, None)
    assert not empty["ready"] and "has no labelled clips" in empty["problems"][0]
    assert empty["labelled_rows"] == 0


@pytest.mark.parametrize(("minutes", "rows", "mode", "enough", "batch", "says"), [
    (2, 40, "fine-tune", False, 8, "Text-to-speech needs at least 5 minutes of clips with "
                                   "their text"),
    (12, 200, "fine-tune", True, 8, "Fine-tune a pretrained VITS base"),
    (45, 600, "fine-tune", True, 16, "Fine-tune a pretrained VITS base"),
    (11 * 60, 9000, "from scratch", True, 16, "That is enough to train from scratch"),
])
def test_the_tts_recommendation_follows_the_labelled_minutes(
        minutes: float, rows: int, mode: str, enough: bool, batch: int, says: str) -> None:
    from backend.dataset.health import recommend_tts

    rec = recommend_tts(minutes * 60, rows)
    assert (rec["mode"], rec["enough_data"], rec["batch_size"]) == (mode, enough, batch)
    assert says in rec["text"] and f"({rows} clips with their text)" in rec["text"]
    steps = 10000 if mode == "fine-tune" else 100000
    assert rec["epochs"] == max(10, -(-steps // -(-rows // batch)))  # ceil divisions
