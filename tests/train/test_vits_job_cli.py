"""Text-to-speech training end to end through the real CLI on a labelled project: a tiny
VITS run, run.json and train.runs, resume keeps the model kind, and the export files read
back with ``load_tts_model`` and speak."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import torch

from backend.commands.train import train_runs
from backend.jobs import export, train
from backend.kernel import BadArgs, JobContext
from backend.train import checkpoint as ck
from tests.train.vits_job_project import cli, make_labelled_project


def _train(project: Path, *extra: str, epochs: int = 1) -> list[str]:
    return ["train", "--project", str(project), "--epochs", str(epochs), "--batch-size", "2",
            "--save-every", "1", "--device", "cpu", "--deterministic", *extra]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A two-speaker labelled project and its tiny VITS run 'main', 1 epoch."""
    project = make_labelled_project(tmp_path_factory.mktemp("vits cli") / "Voix é 声",
                                    speakers=("Ann", "Bob"))
    code, out, err = cli(*_train(project, "--model", "vits", "--size", "tiny"))
    assert code == 0 and out["status"] == "ok", (out, err[-3000:])
    return project, out["result"]


def test_a_tiny_vits_run_trains_and_keeps_its_settings(trained: tuple[Path, dict]) -> None:
    project, result = trained
    run = project / "train" / "main"
    assert result["model"] == "vits" and result["language"] == "en"
    assert result["speakers"] == {"Ann": 0, "Bob": 1} and result["step"] == 2
    assert [p.name for p in ck.list_checkpoints(run)] == ["ckpt_000000002.pt"]
    records = [json.loads(line) for line in (run / "metrics.jsonl").open(encoding="utf-8")]
    assert [r["step"] for r in records] == [1, 2]
    for key in ("loss_mel", "loss_kl", "loss_dur", "loss_adv", "loss_fm", "loss_d", "lr"):
        assert all(isinstance(r[key], float) for r in records), key
    assert [p.name for p in (run / "samples").iterdir()] == ["step_000000002.wav"]
    from backend.text import get

    info = json.loads((run / "run.json").read_text(encoding="utf-8"))
    assert {k: info[k] for k in ("model", "size", "language", "duration", "sample_rate",
                                 "speakers", "n_symbols", "state")} == {
        "model": "vits", "size": "tiny", "language": "en", "duration": "stochastic",
        "sample_rate": 22050, "speakers": {"Ann": 0, "Bob": 1},
        "n_symbols": len(get("en").symbols), "state": "finished"}
    assert info["symbols"] == list(get("en").symbols) and info["learning_rate"] == 2e-4
    [entry] = train_runs({"project": str(project)}, None)["runs"]
    assert entry["settings"] == {"model": "vits", "size": "tiny", "language": "en",
                                 "duration": "stochastic", "sample_rate": 22050,
                                 "speakers": {"Ann": 0, "Bob": 1},
                                 "n_symbols": len(get("en").symbols)}


def test_a_resume_keeps_the_model_kind_and_refuses_another(trained: tuple[Path, dict],
                                                           tmp_path: Path) -> None:
    project, _ = trained
    code, out, _ = cli(*_train(project, "--model", "rvc"))
    assert code == 2 and out["error"]["message"] == (
        "run 'main' was started as text-to-speech (VITS) with size tiny, language en, "
        "stochastic duration, 22050 Hz; this request asks for voice conversion (RVC). Start a "
        "new run with another name, or leave the model kind unset to resume it as it was.")
    with pytest.raises(BadArgs) as err:
        train.prepare({"project": str(project), "duration": "deterministic"})
    assert str(err.value) == (
        "run 'main' was started with size tiny, language en, stochastic duration, 22050 Hz; "
        "this request asks for deterministic duration. Start a new run with another name, or "
        "leave duration unset to resume it as it was.")
    with pytest.raises(BadArgs, match="this request asks for size standard, language zh. "):
        train.prepare({"project": str(project), "size": "standard", "language": "zh"})
    before = sorted(p.name for p in (project / "train" / "main").iterdir())
    # no --model, no --size: the run's own; a second epoch continues from step 2
    code, out, err = cli(*_train(project, epochs=2))
    assert code == 0 and out["result"]["resumed_from"], (out, err[-2000:])
    assert out["result"]["model"] == "vits" and out["result"]["step"] == 4
    assert "ckpt_000000004.pt" in {p.name for p in ck.list_checkpoints(project / "train"
                                                                       / "main")}
    assert set(before) <= {p.name for p in (project / "train" / "main").iterdir()}


def test_export_writes_files_that_load_and_speak(trained: tuple[Path, dict],
                                                 tmp_path: Path) -> None:
    from backend.models.vits.files import ids_for, load_tts_model

    project, _ = trained
    code, out, err = cli("export", "--project", str(project))
    assert code == 0, (out, err[-2000:])
    path = Path(out["result"]["path"])
    assert path == project / "export" / "Voix é 声-tts.pth" and out["result"]["model"] == "vits"
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "timbre-vits" and not any(k.startswith("enc_q.")
                                                      for k in raw["weight"])
    assert all(v.dtype == torch.float16 for v in raw["weight"].values()
               if v.is_floating_point())
    model = load_tts_model(path)
    assert (model.language, model.speakers, model.sample_rate) == ("en", {"Ann": 0, "Bob": 1},
                                                                   22050)
    ids, _ = ids_for(model, "The cat sat.")
    with torch.no_grad():
        audio = model.generator.infer(torch.tensor([ids]), torch.tensor([len(ids)]),
                                      sid=torch.tensor([1])).audio
    assert audio.shape[-1] > 0 and torch.isfinite(audio).all()
    args = {"project": str(project), "out": str(tmp_path / "tts é.zip"), "name": "Ann & Bob"}
    got = export.run(export.prepare(args), JobContext("t", "export", lambda e, d: None))
    assert got["package"] == got["path"] == str(tmp_path / "tts é.zip")
    with zipfile.ZipFile(tmp_path / "tts é.zip") as zf:
        names = set(zf.namelist())
        card = json.loads(zf.read("model_card.json"))
    assert {"config.json", "model_card.md", "model_card.json"} <= names
    assert card["language"] == "en" and card["speakers"] == "Ann, Bob"
    assert load_tts_model(tmp_path / "tts é.zip").speakers == {"Ann": 0, "Bob": 1}
    # the export is a base a new run fine-tunes from (its symbol table read from the file);
    # an RVC base is refused before anything is written
    params = train.prepare({"project": str(project), "run": "from base", "size": "tiny",
                            "pretrained_g": str(path)})
    assert params.pretrained_g == path and params.speakers == {"Ann": 0, "Bob": 1}
    rvc_base = tmp_path / "f0G40k.pth"
    torch.save({"model": {"enc_p.emb_phone.weight": torch.zeros(192, 768)}}, rvc_base)
    with pytest.raises(BadArgs, match=r"^f0G40k.pth is an RVC base \(voice conversion\), not "
                                      r"a VITS text-to-speech base: choose a VITS base"):
        train.prepare({"project": str(project), "run": "other", "size": "tiny",
                       "pretrained_g": str(rvc_base)})
    assert not (project / "train" / "from base").exists()
