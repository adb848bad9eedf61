"""The text-to-speech rows of the protocol through the real server: ``train.suggest`` and
``train.runs`` for vits, ``job.start train`` refused before it starts on an unreadable text
(with the rows in the details), then a tiny run's events."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.project.test_server_project import Client
from tests.train.vits_job_project import make_labelled_project, set_text, shown_rows


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    c = Client()
    c.wait(lambda m: m.get("event") == "backend.ready", timeout=90)
    yield c
    c.send("shutdown")
    c.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_labelled_project(tmp_path_factory.mktemp("vits server") / "Stimme ß 声")


def _train_args(project: Path) -> dict:
    return {"project": str(project), "model": "vits", "size": "tiny", "epochs": 1,
            "batch_size": 2, "save_every": 1, "device": "cpu", "deterministic": True}


def test_suggest_answers_for_the_project_kind(client: Client, project: Path) -> None:
    got = client.call("train.suggest", project=str(project))["result"]
    assert got["model"] == "vits" and got["labelled_rows"] == 4 and got["ready"]
    assert "Text-to-speech needs at least 5 minutes" in got["suggestion"]["text"]
    bad = client.call("train.suggest", project=str(project), model="tacotron")
    assert bad["type"] == "error" and bad["error"]["code"] == "bad_arguments"
    assert bad["error"]["message"] == "'model' must be one of rvc, vits, not 'tacotron'"


def test_an_unreadable_text_refuses_the_job_before_it_starts(client: Client, project: Path,
                                                             tmp_path: Path) -> None:
    copy = tmp_path / "copie"
    shutil.copytree(project, copy)
    row = shown_rows(copy)[1]
    set_text(copy, row["id"], "Seven swans ☃ swam.")
    reply = client.call("job.start", kind="train", args=_train_args(copy))
    assert reply["type"] == "error" and reply["error"]["code"] == "bad_arguments"
    assert "line 2 (" in reply["error"]["message"]
    assert "cannot read SNOWMAN (U+2603) at character 13" in reply["error"]["message"]
    [found] = reply["error"]["details"]["unreadable"]
    assert (found["id"], found["line"]) == (row["id"], 2)
    assert not [e for e in client.events if e["event"] == "job.started"
                and e["data"]["args"].get("project") == str(copy)]


def test_a_tiny_run_reports_its_losses_checkpoint_and_sample(client: Client,
                                                             project: Path) -> None:
    from backend.commands import labels as label_cmds

    last = shown_rows(project)[3]
    label_cmds.apply({"project": str(project), "op": {"kind": "set", "ids": [last["id"]],
                                                      "fields": {"language": "zh"}}}, None)
    started = client.call("job.start", kind="train", args=_train_args(project))
    assert started["type"] == "result", started
    job = started["result"]["job_id"]
    done = client.finished(job, timeout=300)
    assert done["status"] == "ok", done
    assert done["result"]["model"] == "vits"
    mine = [e for e in client.events if e["data"].get("job_id") == job]
    metrics = [e["data"] for e in mine if e["event"] == "job.metrics"]
    assert metrics and all(isinstance(m["loss_dur"], float) for m in metrics)
    [saved] = [e["data"] for e in mine if e["event"] == "train.checkpoint"]
    [sample] = [e["data"] for e in mine if e["event"] == "train.sample"]
    assert Path(saved["path"]).is_file() and Path(sample["path"]).is_file()
    warnings = [e["data"]["message"] for e in mine if e["event"] == "log"
                and e["data"]["level"] == "warning"]
    assert (f"1 labelled clip is left out: line 4, clip {last['clip']}: its language is zh; "
            "this run trains en") in warnings
    assert done["result"]["unusable_clips"][0]["row"] == last["id"]
    [run] = client.call("train.runs", project=str(project))["result"]["runs"]
    assert run["settings"]["model"] == "vits" and run["config"]["model"] == "vits"
    assert run["state"] == "finished" and run["samples"][0]["path"] == sample["path"]
