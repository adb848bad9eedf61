"""Start-up checks without Qt: folders, disk space, GPU versus the torch build, the report."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from desktop.components import startup_checks as sc
from desktop.components.startup_checks import FAILURE, NOTE, OK, WARNING

H200 = {"id": "cuda:0", "kind": "cuda", "name": "NVIDIA H200", "memory_bytes": 150 * 1024**3}


def _free(n: int):
    return lambda _path: SimpleNamespace(free=n, total=10 * n + 1, used=0)


# folders ------------------------------------------------------------------------------
def test_a_missing_data_folder_is_created_and_left_clean(tmp_path: Path) -> None:
    folder = tmp_path / "user dätä Ω" / "TimbreStudio"
    result = sc.check_data_folder(folder)
    assert result.level == OK and str(folder) in result.summary
    assert folder.is_dir() and list(folder.iterdir()) == []  # the probe is gone


def test_a_data_folder_that_is_a_file_is_a_failure_that_says_what_to_do(tmp_path) -> None:
    blocker = tmp_path / "in the way"
    blocker.write_text("x")
    result = sc.check_data_folder(blocker / "TimbreStudio")
    assert result.level == FAILURE
    assert str(blocker / "TimbreStudio") in result.summary and "cannot be written" in \
        result.summary
    assert "TIMBRE_DATA_DIR" in result.detail and "permissions" in result.detail


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root can write anywhere, so chmod cannot deny it")
def test_a_read_only_data_folder_by_chmod(tmp_path: Path) -> None:
    folder = tmp_path / "locked ü"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = sc.check_data_folder(folder)
    finally:
        folder.chmod(0o755)
    assert result.level == FAILURE and "Permission denied" in result.summary


def test_a_read_only_data_folder_even_for_root(tmp_path, read_only_view) -> None:
    folder = tmp_path / "data ü"
    folder.mkdir()
    view = read_only_view(folder)
    result = sc.check_data_folder(view)
    assert result.level == FAILURE and str(view) in result.summary
    assert "Read-only file system" in result.summary
    log = sc.check_log_folder(view)
    assert log.level == WARNING and "--log-dir" in log.detail  # the app works without a log


# disk space -----------------------------------------------------------------------------
def test_disk_space_levels_say_how_much_is_free_and_what_needs_it(tmp_path) -> None:
    where = tmp_path / "not made yet"  # the drive of its nearest existing parent counts
    seen: list[str] = []

    def usage(path: str):
        seen.append(path)
        return SimpleNamespace(free=150_000_000)

    low = sc.check_disk_space(where, usage)
    assert seen == [str(tmp_path)]
    assert low.level == FAILURE and low.summary == f"Only 150 MB free on the drive of {where}."
    assert "0.1–0.4 GB each" in low.detail and "TIMBRE_DATA_DIR" in low.detail
    tight = sc.check_disk_space(where, _free(1_500_000_000))
    assert tight.level == WARNING and tight.summary.startswith("1.5 GB free")
    assert sc.check_disk_space(where, _free(80_000_000_000)).level == OK


def test_a_real_tiny_drive_fails_the_disk_check(small_disk: Path) -> None:
    result = sc.check_disk_space(small_disk / "TimbreStudio")
    assert result.level == FAILURE and "MB free" in result.summary


def test_local_checks_are_data_log_disk(tmp_path: Path) -> None:
    results = sc.local_checks(tmp_path / "data", tmp_path / "logs", _free(10**11))
    assert [r.name for r in results] == ["data folder", "log folder", "disk space"]
    assert sc.worst(results) == OK
    assert sc.worst([*results, sc.CheckResult("x", NOTE, "n")]) == NOTE


# GPU ------------------------------------------------------------------------------------
def test_the_torch_build_from_ready_or_from_the_hello_version() -> None:
    assert sc.torch_build("2.13.0+cpu", {}) == ""
    assert sc.torch_build("2.7.0+cu128", {}) == "12.8"
    assert sc.torch_build("2.5.1+cu124", {}) == "12.4"
    assert sc.torch_build("2.5.1", {}) is None  # Linux's default wheel: not known before ready
    assert sc.torch_build("2.5.1", {"cuda_version": "12.4", "cuda": True}) == "12.4"
    assert sc.torch_build("2.5.1+cu124", {"cuda_version": None}) == ""


def test_cuda_build_without_a_gpu_runs_on_the_cpu_with_a_note() -> None:
    r = sc.check_gpu([], None, "2.7.0+cu128", {"cuda": False, "cuda_version": "12.8"})
    assert r.level == NOTE and "runs on the CPU" in r.summary
    assert "driver" in r.detail


def test_cpu_build_with_an_nvidia_gpu_points_to_the_cuda_installer() -> None:
    r = sc.check_gpu([H200], {"driver_version": "570.86", "cuda_version": "12.8"},
                     "2.13.0+cpu", {"cuda": False, "cuda_version": None})
    assert r.level == NOTE and "NVIDIA H200" in r.summary and "CPU version" in r.summary
    assert "CUDA installer" in r.detail
    assert sc.check_gpu([], None, "2.13.0+cpu", {}).level == OK


def test_cuda_build_with_a_gpu_is_fine() -> None:
    r = sc.check_gpu([H200], {"driver_version": "570.86", "cuda_version": "12.8"},
                     "2.7.0+cu128", {"cuda": True, "cuda_version": "12.8"})
    assert r.level == OK
    assert r.summary == "Runs on the GPU: NVIDIA H200 (CUDA 12.8, driver 570.86)."


def test_a_driver_too_old_for_the_build_is_a_warning() -> None:
    r = sc.check_gpu([H200], {"driver_version": "470.1", "cuda_version": "11.4"},
                     "2.7.0+cu128", {"cuda": False, "cuda_version": "12.8"})
    assert r.level == WARNING and "too old" in r.summary and "runs on the CPU" in r.summary
    assert "CUDA up to 11.4" in r.detail and "needs CUDA 12.8" in r.detail


def test_a_gpu_torch_cannot_use_is_a_warning_and_torch_errors_too() -> None:
    r = sc.check_gpu([H200], {"driver_version": "560.1", "cuda_version": "12.6"},
                     "2.7.0+cu128", {"cuda": False, "cuda_version": "12.8"})
    assert r.level == WARNING and "cannot use the NVIDIA GPU" in r.summary
    bad = sc.check_gpu([H200], None, None, {"torch_error": "DLL load failed"})
    assert bad.level == WARNING and "DLL load failed" in bad.detail
    assert sc.check_gpu([H200], None, "2.5.1", {}).level == OK  # not known yet: no alarm


# report ---------------------------------------------------------------------------------
def test_the_report_names_the_installation_and_every_check(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    results = [sc.check_data_folder(blocker / "data"), sc.check_log_folder(tmp_path / "logs"),
               sc.check_disk_space(tmp_path, _free(100_000_000))]
    ctx = sc.ReportContext("0.1.0", str(blocker / "data"), str(tmp_path / "logs"),
                           frozen=True, executable="C:\\Programs\\TimbreStudio.exe",
                           extra=[("torch", "2.7.0+cu128")])
    text = sc.report_text(results, ctx)
    for line in ("Timbre Studio 0.1.0 start-up report", "Frozen: yes (installed app)",
                 "Executable: C:\\Programs\\TimbreStudio.exe", f"Data folder: {blocker / 'data'}",
                 f"Log folder: {tmp_path / 'logs'}", "torch: 2.7.0+cu128", "Python: 3.",
                 "OS: ", f"[FAILURE] data folder: The data folder {blocker / 'data'}",
                 "[OK] log folder:", "[FAILURE] disk space: Only 100 MB free",
                 "    Downloaded models"):
        assert line in text, line
    crash = sc.crash_report("Traceback (most recent call last):\nKeyError: 'x'", results, ctx)
    assert crash.startswith(text) and crash.rstrip().endswith("KeyError: 'x'")


def test_the_report_is_written_in_the_log_folder_else_in_temp(tmp_path: Path) -> None:
    path = sc.write_report("report ü\n", tmp_path / "logs ü")
    assert path.parent == tmp_path / "logs ü" and path.name.startswith("crash-")
    assert path.read_text(encoding="utf-8") == "report ü\n"
    blocker = tmp_path / "file"
    blocker.write_text("")
    fallback = sc.write_report("x", blocker / "logs")
    try:
        assert fallback.parent != blocker / "logs" and fallback.read_text() == "x"
    finally:
        fallback.unlink()


def test_a_silent_backend_names_its_command_and_last_output() -> None:
    r = sc.backend_silent(90, "starting", ["TimbreStudio.exe", "backend", "serve"],
                          ["ImportError: DLL load failed"], "exit code 3")
    assert r.level == FAILURE and r.summary == "The backend did not start within 90 s."
    assert "TimbreStudio.exe backend serve" in r.detail
    assert "  ImportError: DLL load failed" in r.detail and "antivirus" in r.detail


def test_the_nvidia_driver_versions_read_through_nvml(monkeypatch) -> None:
    """``backend.devices.nvidia_driver`` on a stand-in for NVML (no driver here): the
    version text and CUDA 12080 -> "12.8"; None without the library."""
    from backend import devices

    class FakeNvml:
        shut = False

        def nvmlSystemGetDriverVersion(self, buf, size):  # noqa: N802 (NVML's names)
            buf.value = b"570.86.10"
            return 0

        def nvmlSystemGetCudaDriverVersion_v2(self, ref):  # noqa: N802
            ref._obj.value = 12080
            return 0

        def nvmlShutdown(self):  # noqa: N802
            FakeNvml.shut = True

    monkeypatch.setattr(devices, "_nvml", FakeNvml)
    assert devices.nvidia_driver() == {"driver_version": "570.86.10", "cuda_version": "12.8"}
    assert FakeNvml.shut
    monkeypatch.setattr(devices, "_nvml", lambda: None)
    assert devices.nvidia_driver() is None
