"""``--self-test``: its plan and report (Qt-free), and one real run of the window with its
real backend on a generated folder (the frozen bundle's smoke test runs the same)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.components.self_test import (
    REPORT_NAME,
    SelfTestError,
    SelfTestPlan,
    SelfTestReport,
    converted_outputs,
)
from tests.desktop.self_test_folder import make_self_test_folder

ROOT = Path(__file__).resolve().parents[2]


def test_plan_names_what_is_missing(tmp_path: Path) -> None:
    plan = SelfTestPlan(tmp_path / "dir ü")
    with pytest.raises(SelfTestError, match="takes is missing"):
        plan.check()
    plan.takes.mkdir(parents=True)
    (plan.takes / "notes.txt").write_text("x")
    with pytest.raises(SelfTestError, match="holds no audio file"):
        plan.check()
    (plan.takes / "b.wav").write_bytes(b"")
    (plan.takes / "a.WAV").write_bytes(b"")
    with pytest.raises(SelfTestError, match="model.pth is missing"):
        plan.check()
    plan.model.write_bytes(b"")
    plan.check()
    assert plan.convert_args()["inputs"] == [str(plan.takes / "a.WAV")]
    plan.project.mkdir()
    with pytest.raises(SelfTestError, match="exists already"):
        plan.check()


def test_converted_outputs_need_real_files(tmp_path: Path) -> None:
    good = tmp_path / "good.wav"
    good.write_bytes(b"\0" * 5000)
    (tmp_path / "tiny.wav").write_bytes(b"\0" * 44)
    result = {"outputs": [{"input": "a", "output": str(good), "error": None}]}
    assert converted_outputs(result) == ([str(good)], "")
    bad = {"outputs": [{"input": "b", "output": str(tmp_path / "tiny.wav"), "error": None},
                       {"input": "c", "output": None, "error": "cannot read c"},
                       {"input": "d", "output": str(tmp_path / "gone.wav"), "error": None}]}
    files, problem = converted_outputs(bad)
    assert files == []
    assert "only 44 bytes" in problem and "cannot read c" in problem and "no output" in problem
    assert converted_outputs({"outputs": []}) == ([], "the job converted nothing")


def test_report_fails_on_any_failed_step(tmp_path: Path) -> None:
    report = SelfTestReport(tmp_path)
    assert not report.ok  # no step yet
    report.step("hello", True)
    assert report.ok
    report.step("prepare", False, "failed: disk full")
    report.step("convert", True)
    assert not report.ok and report.error == "prepare: failed: disk full"
    data = json.loads(report.write().read_text(encoding="utf-8"))
    assert data["ok"] is False and [s["step"] for s in data["steps"]] == [
        "hello", "prepare", "convert"]
    assert "FAILED" in report.summary()


@pytest.mark.slow
def test_self_test_runs_the_window_and_its_backend(tmp_path: Path) -> None:
    folder = tmp_path / "self test ü"
    data = make_self_test_folder(folder)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TIMBRE_DATA_DIR": str(data),
           "PYTHONPATH": str(ROOT)}
    env.pop("TIMBRE_ASSET_CATALOGUE", None)
    proc = subprocess.run([sys.executable, "-m", "desktop", "--self-test", str(folder)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    report = json.loads((folder / REPORT_NAME).read_text(encoding="utf-8"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert report["ok"], report
    assert [s["step"] for s in report["steps"]] == ["hello", "prepare", "convert"]
    assert report["hello"]["protocol"] >= 1
    (out,) = report["steps"][2]["outputs"]
    assert Path(out).is_file() and Path(out).parent == folder / "converted"
    assert (folder / "project" / "project.json").is_file()
    assert "self-test passed" in proc.stderr


@pytest.mark.slow
def test_self_test_fails_with_a_broken_model(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    data = make_self_test_folder(folder)
    (folder / "model.pth").write_bytes(b"not a model")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TIMBRE_DATA_DIR": str(data),
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "desktop", "--self-test", str(folder)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 1
    report = json.loads((folder / REPORT_NAME).read_text(encoding="utf-8"))
    assert not report["ok"] and report["error"].startswith("convert:")
