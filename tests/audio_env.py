"""Virtual PulseAudio devices for tests on machines with no sound card.

Usage in a test module::

    from tests.audio_env import virtual_audio  # noqa: F401  (the fixture)

    def test_x(virtual_audio):
        subprocess.run([...], env=virtual_audio.env)

``virtual_audio.env`` is a copy of ``os.environ`` pointing at a private
PulseAudio server (its own XDG_RUNTIME_DIR and HOME in a temp folder) with a
null speaker ``vspk`` (default sink, record it from ``vspk.monitor``) and a
virtual microphone ``vmic`` fed by playing into ``vmicsink``. PortAudio reads
the device list when sounddevice is imported, so run the audio code in a
subprocess started with this env (the test process itself stays untouched).
The fixture skips only when pulseaudio is not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SINK_RATE = 48000


@dataclass
class VirtualAudio:
    root: Path
    env: dict[str, str]
    proc: subprocess.Popen | None = None
    log: list[str] = field(default_factory=list)

    def pactl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True,
                              timeout=10, check=check)


def _modules() -> list[str]:
    return [
        "module-native-protocol-unix auth-anonymous=1",
        "module-null-sink sink_name=vspk sink_properties=device.description=VirtualSpeaker "
        f"rate={SINK_RATE}",
        "module-null-sink sink_name=vmicsink "
        f"sink_properties=device.description=VirtualMicFeed rate={SINK_RATE}",
        "module-remap-source master=vmicsink.monitor source_name=vmic "
        "source_properties=device.description=VirtualMic",
    ]


def start_virtual_audio(timeout: float = 15.0) -> VirtualAudio:
    """Start a private PulseAudio server; raise RuntimeError if it does not come up."""
    root = Path(tempfile.mkdtemp(prefix="ts-pa-"))  # short: socket paths max ~100 chars
    run_dir, home = root / "run", root / "home"
    run_dir.mkdir(mode=0o700)
    home.mkdir()
    env = dict(os.environ, XDG_RUNTIME_DIR=str(run_dir), HOME=str(home))
    env.pop("PULSE_SERVER", None)
    cmd = ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--system=false",
           "--log-target=stderr", "--disable-shm=true"]
    cmd += [f"--load={m}" for m in _modules()]
    va = VirtualAudio(root=root, env=env)
    log_file = open(root / "pulseaudio.log", "wb")  # noqa: SIM115  (closed in stop)
    va.proc = subprocess.Popen(cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    log_file.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if va.proc.poll() is not None:
            break
        if va.pactl("info", check=False).returncode == 0:
            va.pactl("set-default-sink", "vspk")
            va.pactl("set-default-source", "vmic")
            return va
        time.sleep(0.1)
    text = (root / "pulseaudio.log").read_text(errors="replace")[-2000:]
    stop_virtual_audio(va)
    raise RuntimeError(f"the virtual PulseAudio server did not start:\n{text}")


def stop_virtual_audio(va: VirtualAudio) -> None:
    if va.proc is not None and va.proc.poll() is None:
        va.proc.terminate()
        try:
            va.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            va.proc.kill()
            va.proc.wait()
    shutil.rmtree(va.root, ignore_errors=True)


@pytest.fixture(scope="module")
def virtual_audio():
    """A running virtual PulseAudio server for the tests of one module."""
    if shutil.which("pulseaudio") is None or shutil.which("pactl") is None:
        pytest.skip("pulseaudio/pactl not installed: apt-get install pulseaudio "
                    "pulseaudio-utils libasound2-plugins to run the real-audio tests")
    va = start_virtual_audio()
    try:
        yield va
    finally:
        stop_virtual_audio(va)
