"""A run keeps the model settings it was started with; contradicting requests get one
sentence, unset ones resume the run as it was."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from backend.commands.train import train_runs
from backend.jobs import train
from backend.kernel import BadArgs
from tests.train.feature_project import make_feature_project, train_in_process


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose run 'main' was started as size tiny (v2, 40k) and saved at step 2."""
    project = make_feature_project(tmp_path_factory.mktemp("settings") / "Projet é", clips=5)
    result, _ = train_in_process(project)
    assert result["step"] == 2
    return project


def _args(project: Path, **extra: object) -> dict:
    return {"project": str(project), "run": "main", "device": "cpu", **extra}


def test_a_contradicting_size_is_refused_in_one_sentence(trained: Path) -> None:
    with pytest.raises(BadArgs) as err:
        train.prepare(_args(trained, size="standard"))
    assert str(err.value) == (
        "run 'main' was started with size tiny, version v2, 40k; this request asks for size "
        "standard. Start a new run with another name, or leave size unset to resume it as it "
        "was.")
    with pytest.raises(BadArgs, match=r"asks for size standard, f0 off\. .*leave size and f0 "
                                      r"unset to resume it as it was\.$"):
        train.prepare(_args(trained, size="standard", f0=False))


def test_another_model_kind_is_refused_in_one_sentence(trained: Path) -> None:
    with pytest.raises(BadArgs) as err:
        train.prepare(_args(trained, model="vits"))
    assert str(err.value) == (
        "run 'main' was started as voice conversion (RVC) with size tiny, version v2, 40k; "
        "this request asks for text-to-speech (VITS). Start a new run with another name, or "
        "leave the model kind unset to resume it as it was.")
    assert train.prepare(_args(trained, model="rvc")).model == "rvc"  # agreeing is fine
    with pytest.raises(BadArgs, match=r"^'model' must be one of rvc, vits \(voice conversion "
                                      r"or text-to-speech\), not 'tts'$"):
        train.prepare(_args(trained, model="tts"))


def test_unset_settings_resume_the_run_as_it_was(trained: Path) -> None:
    params = train.prepare(_args(trained))
    assert (params.size, params.version, params.sample_rate, params.f0) == ("tiny", "v2",
                                                                            40000, True)
    assert train.prepare(_args(trained, size="tiny")).size == "tiny"  # agreeing is fine
    # a new run takes the request's settings (standard unless told)
    assert train.prepare(_args(trained, run="other")).size == "standard"


def test_train_runs_returns_the_stored_settings(trained: Path) -> None:
    [run] = train_runs({"project": str(trained)}, None)["runs"]
    assert run["settings"] == {"model": "rvc", "size": "tiny", "version": "v2",
                               "sample_rate": 40000, "f0": True}


def test_without_run_json_the_checkpoint_tells_the_settings(trained: Path,
                                                            tmp_path: Path) -> None:
    project = tmp_path / "copy"
    shutil.copytree(trained, project)
    (project / "train" / "main" / "run.json").unlink()
    assert train.prepare(_args(project)).size == "tiny"
    with pytest.raises(BadArgs, match="was started with size tiny"):
        train.prepare(_args(project, size="standard"))


@pytest.mark.parametrize(("version", "rate", "asks", "fix"), [
    ("v1", 40000, "version v1", "run Extract with version v2 again"),
    ("v2", 48000, "48k", "set the project back to 40k"),
])
def test_features_of_another_version_or_rate_are_refused(trained: Path, tmp_path: Path,
                                                         version: str, rate: int, asks: str,
                                                         fix: str) -> None:
    project = make_feature_project(tmp_path / "other", clips=5, version=version,
                                   sample_rate=rate)
    shutil.copytree(trained / "train", project / "train")
    with pytest.raises(BadArgs) as err:
        train.prepare(_args(project))
    assert str(err.value) == (
        f"run 'main' was started with size tiny, version v2, 40k; this request asks for "
        f"{asks}. Start a new run with another name, or {fix} to resume it as it was.")


def test_a_checkpoint_that_contradicts_run_json_is_refused_before_loading(
        trained: Path, tmp_path: Path) -> None:
    project = tmp_path / "edited"
    shutil.copytree(trained, project)
    info_path = project / "train" / "main" / "run.json"
    info = json.loads(info_path.read_text(encoding="utf-8"))
    info_path.write_text(json.dumps({**info, "size": "standard"}), encoding="utf-8")
    with pytest.raises(BadArgs) as err:
        train_in_process(project, size="standard")  # agrees with the edited run.json
    message = str(err.value)
    assert "ckpt_000000002.pt: it was saved with size tiny, version v2, 40k, but this run asks " \
           "for size standard; start a new run with another name" in message
    assert "\n" not in message and len(message) < 400
