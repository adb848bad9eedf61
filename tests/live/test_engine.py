"""The block engine through the deterministic file stream, and its real-time pieces."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from backend.convert.settings import ConvertSettings
from backend.kernel import BadArgs
from backend.live.engine import Engine, EngineConfig
from backend.live.file_stream import FileStream
from backend.live.identity import IdentityConverter
from backend.live.resample import UnitResampler
from backend.live.ring import Ring
from backend.live.sola import Sola, best_offset

SR = 48000


def _tone(seconds: float, sr: int = SR) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    x = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 1.3 * t))
    return x.astype(np.float32)


def _delay(y: np.ndarray, x: np.ndarray) -> int:
    n = 1 << int(np.ceil(np.log2(len(y) + len(x))))
    cc = np.fft.irfft(np.fft.rfft(y, n) * np.conj(np.fft.rfft(x, n)), n)
    return int(np.argmax(cc[:len(y)]))


def _run(tmp_path, x, sr, conv, **cfg) -> tuple[np.ndarray, Engine]:
    src, dst = tmp_path / "in ü.wav", tmp_path / "out ü.wav"
    sf.write(src, x, sr, subtype="FLOAT")
    eng = Engine(conv, ConvertSettings(), EngineConfig(**{"gate_db": -120.0, **cfg}).check(),
                 sr, conv.output_rate)
    FileStream(eng, src, dst).run()
    y, _ = sf.read(dst, dtype="float32")
    return y, eng


@pytest.mark.parametrize("out_rate", [48000, 40000, 16000])
def test_identity_reproduces_input_after_displayed_latency(tmp_path, out_rate):
    x = _tone(3.0)
    y, eng = _run(tmp_path, x, SR, IdentityConverter(out_rate), block=0.2, crossfade=0.04)
    ref = x if out_rate == SR else __import__("soxr").resample(x, SR, out_rate, quality="HQ")
    d = _delay(y, ref)
    shown = eng.stats()["latency_ms"]
    assert d / out_rate * 1000 == pytest.approx(shown["total"], abs=1.0)
    assert shown["algorithmic"] == pytest.approx(200 + 40 + 10)
    seg = y[d:d + len(ref)]
    mid = slice(out_rate // 2, len(ref) - out_rate // 2)
    assert np.max(np.abs(seg[mid] - ref[mid])) < 1e-3
    assert eng.xruns() == 0 and eng.dropped_blocks == 0


def test_no_click_at_block_boundaries(tmp_path):
    x = _tone(3.0)
    y, eng = _run(tmp_path, x, SR, IdentityConverter(SR), block=0.25, crossfade=0.05)
    d = _delay(y, x)
    jumps = np.abs(np.diff(y[d + SR // 2:d + len(x) - SR // 2]))
    block = int(0.25 * SR)
    start = (d + SR // 2) % block
    at = np.zeros(len(jumps), bool)
    for b in range(-start % block, len(jumps), block):  # output block boundaries
        at[max(0, b - 2):b + 3] = True
    assert at.any()
    assert jumps[at].max() <= 1.05 * jumps[~at].max()


def test_sola_finds_known_offset():
    rng = np.random.default_rng(1)
    sig = rng.standard_normal(4000).astype(np.float32)
    tail = sig[1000:1200]
    for shift in (0, 37, 80):
        head = sig[1000 - shift:1000 - shift + 200 + 80]
        assert best_offset(head, tail, 80) == shift


def test_sola_crossfade_keeps_steady_signal():
    s = Sola(block=100, crossfade=40, search=10)
    ones = np.ones(150, np.float32)
    s.join(ones)
    out = s.join(ones)
    assert np.allclose(out, 1.0, atol=1e-6)  # sin^2 + cos^2 = 1


def test_unit_resampler_matches_whole_signal():
    import soxr

    rng = np.random.default_rng(0)
    for a, b in ((48000, 16000), (16000, 48000), (44100, 16000)):
        x = rng.standard_normal(a).astype(np.float32) * 0.1
        r = UnitResampler(a, b)
        sizes = [480, 100, 1000, 4000, 7]
        parts, i, k = [], 0, 0
        while i < len(x):
            parts.append(r.process(x[i:i + sizes[k % 5]]))
            i += sizes[k % 5]
            k += 1
        y = np.concatenate(parts)
        ref = soxr.resample(x, a, b, quality="HQ")
        m = slice(b // 10, len(y) - b // 10)
        assert np.abs(y[m] - ref[m]).max() < 1e-5
        assert r.held() < (2 + 1) * a / 100  # the guard plus less than a unit


class SlowConverter(IdentityConverter):
    """Identity that takes ``factor`` times the block length to compute."""

    def __init__(self, rate: int, seconds: float):
        super().__init__(rate)
        self.seconds = seconds

    def convert(self, window, n_new, n_out, settings):
        time.sleep(self.seconds)
        return super().convert(window, n_new, n_out, settings)


def _clicks(seconds: float, every: float, sr: int = SR) -> np.ndarray:
    """5 ms bursts of 1 kHz (they survive the trip through 16 kHz) every ``every`` s."""
    x = np.zeros(int(seconds * sr), np.float32)
    burst = 0.8 * np.sin(2 * np.pi * 1000 * np.arange(int(0.005 * sr)) / sr)
    for s in range(int(0.3 * sr), len(x) - len(burst), int(every * sr)):
        x[s:s + len(burst)] = burst
    return x


def _click_delays(y: np.ndarray, x: np.ndarray, sr: int) -> list[float]:
    src = np.flatnonzero(np.abs(x) > 0.4)
    src = src[np.diff(src, prepend=-sr) > sr // 100]  # the first sample of each burst
    out = np.flatnonzero(np.abs(y) > 0.4)
    delays = []
    for s in src:
        later = out[(out >= s) & (out < s + int(0.55 * sr))]
        if len(later):
            delays.append((later[0] - s) / sr)
    return delays


def test_slow_converter_drops_stale_blocks_and_latency_stays_bounded(tmp_path):
    block = 0.1
    x = _clicks(6.0, 0.6)
    src, dst = tmp_path / "clicks.wav", tmp_path / "out.wav"
    sf.write(src, x, SR, subtype="FLOAT")
    eng = Engine(SlowConverter(SR, 1.3 * block), ConvertSettings(),
                 EngineConfig(block=block, crossfade=0.02, extra=0.1, gate_db=-120).check(),
                 SR, SR)
    eng.start()
    try:
        FileStream(eng, src, dst, pace=1.0).run()
    finally:
        eng.stop()
    y, _ = sf.read(dst, dtype="float32")
    delays = _click_delays(y, x, SR)
    info = (delays, eng.stats())
    assert eng.dropped_blocks >= 5, info
    assert len(delays) >= 3, info  # clicks in converted blocks come out (others were dropped)
    algorithmic = block + 0.02 + 0.01
    # bounded: compute (1.3 blocks), margin and slack beyond the algorithmic latency,
    # and the last clicks come out no later than the first ones (no creep)
    assert min(delays) >= algorithmic - 0.005, info
    assert max(delays) < algorithmic + 2 * block + 0.1, info
    assert delays[-1] <= delays[0] + block, info


def test_gate_silences_quiet_input_and_holds_after_words(tmp_path):
    x = _tone(2.0)
    x[int(1.0 * SR):] *= 10 ** (-70 / 20)  # -70 dB after 1 s
    y, eng = _run(tmp_path, x, SR, IdentityConverter(SR), block=0.1, crossfade=0.02,
                  gate_db=-50.0, gate_hold=0.2)
    lat = int(eng.stats()["latency_ms"]["total"] / 1000 * SR)
    loud = y[lat + int(0.3 * SR):lat + int(0.9 * SR)]
    held = y[lat + int(1.02 * SR):lat + int(1.15 * SR)]  # inside the hold: still passes
    after = y[lat + int(1.5 * SR):lat + int(1.9 * SR)]
    assert np.abs(loud).max() > 0.2
    assert np.abs(held).max() > 1e-4
    assert np.abs(after).max() == 0.0
    assert eng.gate_open is False


def test_bypass_plays_input_through_same_latency(tmp_path):
    class Silent(IdentityConverter):
        def convert(self, window, n_new, n_out, settings):
            return np.zeros(n_out, np.float32)

    x = _tone(2.0)
    y, eng = _run(tmp_path, x, SR, Silent(SR), block=0.1, crossfade=0.02, bypass=True)
    assert np.abs(y).max() > 0.2  # the converter would have played silence
    assert _delay(y, x) / SR * 1000 == pytest.approx(eng.stats()["latency_ms"]["total"],
                                                     abs=1.0)


def test_controls_mid_stream(tmp_path):
    x = _tone(3.0)
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, x, SR, subtype="FLOAT")
    seen = []

    class Recording(IdentityConverter):
        def convert(self, window, n_new, n_out, settings):
            seen.append((len(window), n_out, settings.key))
            return super().convert(window, n_new, n_out, settings)

    eng = Engine(Recording(SR), ConvertSettings(), EngineConfig(block=0.1, crossfade=0.02,
                                                                gate_db=-120).check(), SR, SR)
    stream = FileStream(eng, src, dst)
    ticks = []

    def tick():
        ticks.append(1)
        if len(ticks) == 4:  # ~1 s in
            eng.set_settings(ConvertSettings(key=5))
            eng.reconfigure(block=0.2)
        if len(ticks) == 8:
            eng.set_flags(monitor=False)

    stream.run(tick=tick)
    y, _ = sf.read(dst, dtype="float32")
    keys = [k for _, _, k in seen]
    assert keys[0] == 0 and keys[-1] == 5
    assert {n for _, n, _ in seen} == {int(0.13 * SR), int(0.23 * SR)}
    assert np.abs(y[-int(0.5 * SR):]).max() == 0.0  # monitor off at ~2 s
    steady = np.abs(np.diff(x)).max()
    assert np.abs(np.diff(y[:int(1.8 * SR)])).max() < 1.1 * steady  # no click at the rebuild
    assert np.abs(y[int(1.2 * SR):int(1.8 * SR)]).max() > 0.2
    with pytest.raises(BadArgs, match="crossfade"):
        eng.reconfigure(crossfade=0.5)


def test_callbacks_allocate_no_buffers():
    eng = Engine(IdentityConverter(SR), ConvertSettings(), EngineConfig().check(), SR, SR)
    indata = np.random.default_rng(0).standard_normal((480, 1)).astype(np.float32)
    outdata = np.zeros((480, 2), np.float32)
    eng.output_started = True
    for _ in range(5):  # warm up
        eng.input_callback(indata, 480, None, None)
        eng.output_callback(outdata, 480, None, None)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    for _ in range(200):
        eng.input_callback(indata, 480, None, None)
        eng.output_callback(outdata, 480, None, None)
    cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak - base < 1500  # one 480-sample float32 copy alone would be 1920 bytes
    assert eng.in_ring.w == 205 * 480


def test_ring_timeline_late_block_restarts_after_margin():
    ring = Ring(100)
    out = np.zeros(10, np.float32)
    assert ring.pop_into(out, 10, timeline=True) == 0  # played 10 samples of silence
    assert ring.available() == -10
    ring.pad_to(3)
    ring.push_from(np.arange(1, 8, dtype=np.float32), 7)
    ring.pop_into(out, 10, timeline=True)
    assert out.tolist() == [0, 0, 0, 1, 2, 3, 4, 5, 6, 7]
    assert ring.push_from(np.ones(200, np.float32), 200) == 100  # full: the rest dropped


def test_config_checks_name_the_setting():
    with pytest.raises(BadArgs, match="block"):
        EngineConfig(block=5).check()
    with pytest.raises(BadArgs, match="gate_db"):
        EngineConfig(gate_db=3).check()
    assert EngineConfig(block=0.123).check().block == pytest.approx(0.12)


def _noise(seconds: float) -> np.ndarray:
    """Band-limited noise: a delay measured on it has a single answer."""
    rng = np.random.default_rng(3)
    x = np.convolve(rng.standard_normal(int(seconds * SR)), np.ones(8) / 8, "same")
    return (0.3 * x).astype(np.float32)


@pytest.mark.parametrize("signal", ["tone", "noise"])
def test_shorter_block_mid_stream_trims_latency_without_click(tmp_path, signal):
    x = _tone(4.0) if signal == "tone" else _noise(4.0)
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(src, x, SR, subtype="FLOAT")
    eng = Engine(IdentityConverter(SR), ConvertSettings(),
                 EngineConfig(block=0.3, crossfade=0.03, gate_db=-120).check(), SR, SR)
    ticks = []

    def tick():
        ticks.append(eng.stats()["latency_ms"])
        if len(ticks) == 4:
            eng.reconfigure(block=0.1)

    FileStream(eng, src, dst).run(tick=tick)
    y, _ = sf.read(dst, dtype="float32")
    assert eng.trims >= 1
    shown = ticks[12]  # at 3 s (the silence flushed at the end has no SOLA offset)
    assert shown["algorithmic"] == pytest.approx(100 + 30 + 10)
    if signal == "tone":  # the cut is a crossfade, not a jump
        steady = np.abs(np.diff(x)).max()
        assert np.abs(np.diff(y[:int(3.5 * SR)])).max() < 1.1 * steady
        return
    late = x[int(2.5 * SR):int(3.5 * SR)]
    d = _delay(y, late) - int(2.5 * SR)
    assert d / SR * 1000 == pytest.approx(shown["total"], abs=1.0)
    assert shown["total"] < 100 + 30 + 10 + 20 + 30 + 15  # back near the margin
