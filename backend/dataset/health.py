"""Dataset health: per-clip problems, the dataset report and a training recommendation."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from backend.dataset.audio_io import clipped_mask

# Thresholds (documented in docs/preparation.md).
CLIP_WARN_FRACTION = 0.0  # any run of 3+ full-scale samples
CLIP_ERROR_FRACTION = 0.01  # 1 % of samples clipped makes the clip unusable
SILENT_ERROR_DB = -50.0  # overall RMS below this: the clip is (near) silence
QUIET_WARN_DB = -40.0
TOO_SHORT_ERROR_S = 0.5
TOO_SHORT_WARN_S = 1.0
TOO_LONG_WARN_S = 15.0
DC_WARN = 0.02
SNR_WARN_DB = 15.0
LOW_SR_WARN = 32000
PRETRAINED_RATES = (32000, 40000, 48000)


def _problem(kind: str, severity: str, message: str, **extra: object) -> dict:
    return {"kind": kind, "severity": severity, "message": message, **extra}


def _db(x: float) -> float:
    return 20 * math.log10(x) if x > 1e-10 else -200.0


def estimate_snr_db(audio: np.ndarray, sr: int) -> float:
    """Loud frames (95th percentile RMS) over the noise floor (10th percentile), in dB.

    Steady sounds without pauses (music, tones) read as low SNR; speech with
    digital-silence pauses reads as very high.
    """
    frame = max(1, int(0.02 * sr))
    n = len(audio) // frame
    if n < 10:
        return math.inf
    frames = audio[: n * frame].reshape(n, frame).astype(np.float64)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    loud, floor = np.percentile(rms, 95), np.percentile(rms, 10)
    if floor <= 1e-6:
        return math.inf
    return _db(loud / floor)


def _level_problems(audio: np.ndarray, duration: float) -> list[dict]:
    out = []
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if len(audio) else 0.0
    if _db(rms) < SILENT_ERROR_DB:
        out.append(_problem("near_silence", "error",
                            f"the clip is almost silent (level {_db(rms):.0f} dBFS): it "
                            "teaches the model nothing; delete it or lower the slicing "
                            "threshold", level_db=round(_db(rms), 1)))
    elif _db(rms) < QUIET_WARN_DB:
        out.append(_problem("near_silence", "warning",
                            f"the clip is very quiet (level {_db(rms):.0f} dBFS): check that "
                            "it holds speech and not just background noise",
                            level_db=round(_db(rms), 1)))
    dc = float(np.mean(audio, dtype=np.float64)) if len(audio) else 0.0
    if abs(dc) > DC_WARN:
        out.append(_problem("dc_offset", "warning",
                            f"the waveform is off-centre (DC offset {dc:+.3f}); the high-pass "
                            "filter in preparation removes it", dc=round(dc, 4)))
    if duration < TOO_SHORT_ERROR_S:
        out.append(_problem("too_short", "error",
                            f"the clip is only {duration:.2f} s long: too short to train on"))
    elif duration < TOO_SHORT_WARN_S:
        out.append(_problem("too_short", "warning",
                            f"the clip is short ({duration:.2f} s); clips of 1-4 s work best"))
    if duration > TOO_LONG_WARN_S:
        out.append(_problem("too_long", "warning",
                            f"the clip is long ({duration:.1f} s): training memory grows with "
                            "clip length; re-run preparation with chunking enabled"))
    return out


def analyze_clip(audio: np.ndarray, sr: int, *, original_sr: int,
                 clipped_samples: int | None = None) -> list[dict]:
    """Problems found in one mono clip.

    Each problem is ``{"kind", "severity": "warning"|"error", "message"}`` (plus
    a number or two). ``clipped_samples`` (counted on the original, at
    ``original_sr``) replaces the clip's own clipping count when given, which
    matters when ``audio`` was filtered or resampled after decoding.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    duration = len(audio) / sr if sr else 0.0
    out = _level_problems(audio, duration)
    if clipped_samples is None:
        clipped, total = int(clipped_mask(audio).sum()), max(len(audio), 1)
    else:
        clipped, total = clipped_samples, max(int(duration * original_sr), 1)
    frac = clipped / total
    if clipped and frac > CLIP_WARN_FRACTION:
        severity = "error" if frac >= CLIP_ERROR_FRACTION else "warning"
        out.append(_problem("clipping", severity,
                            f"{frac:.2%} of the samples are clipped (flattened at full scale): "
                            "record or export with more headroom", fraction=round(frac, 5)))
    if not any(p["kind"] == "near_silence" and p["severity"] == "error" for p in out):
        snr = estimate_snr_db(audio, sr)
        if snr < SNR_WARN_DB:
            out.append(_problem("low_snr", "warning",
                                f"background noise is high (estimated SNR {snr:.0f} dB): the "
                                "model will learn the noise too; denoise or use cleaner takes",
                                snr_db=round(snr, 1)))
    if original_sr < LOW_SR_WARN:
        out.append(_problem("low_sample_rate", "warning",
                            f"the source was recorded at {original_sr / 1000:g} kHz, so it has "
                            f"nothing above {original_sr / 2000:g} kHz; the model (trained at "
                            f"{sr / 1000:g} kHz) cannot learn the highs. Use recordings at "
                            "32 kHz or more if you have them", original_sr=original_sr))
    return out


def _rate_tag(sample_rate: int) -> tuple[int, str]:
    """The highest pretrained rate not above ``sample_rate`` (32k for anything lower)."""
    rate = max([r for r in PRETRAINED_RATES if r <= sample_rate] or [PRETRAINED_RATES[0]])
    return rate, f"{rate // 1000}k"


def _epochs(minutes: float) -> int:
    """~300 epochs at 10 min, falling (log scale) to 100 at 1 h and 60 at 3 h."""
    if minutes <= 10:
        return 300
    if minutes <= 60:
        return int(round((300 - 200 * math.log(minutes / 10) / math.log(6)) / 10) * 10)
    hours = min(minutes / 60, 3.0)
    return int(round((100 - 40 * math.log(hours) / math.log(3)) / 10) * 10)


def _batch_size(minutes: float) -> int:
    if minutes < 10:
        return 4
    if minutes < 60:
        return 8
    return 12 if minutes <= 180 else 16


def recommend(total_seconds: float, sample_rate: int, version: str = "v2") -> dict:
    """Training mode, pretrained base files and hyperparameters for this much audio."""
    if version not in ("v1", "v2"):
        raise ValueError(f"version must be 'v1' or 'v2' (got {version!r})")
    minutes = max(total_seconds, 0.0) / 60
    rate, tag = _rate_tag(sample_rate)
    scratch = minutes > 180
    epochs = 200 if scratch else _epochs(minutes)
    lr = 2e-4 if scratch else 1e-4
    batch = _batch_size(minutes)
    warnings = []
    if minutes < 10:
        warnings.append(f"only {minutes:.1f} minutes of usable audio: 10 minutes is the "
                        "practical minimum and 30-60 minutes gives clearly better models")
    if rate != sample_rate:
        warnings.append(f"no pretrained base exists for {sample_rate} Hz; use the {tag} "
                        "base and train at that rate")
    folder = "pretrained_v2" if version == "v2" else "pretrained"
    rec = {
        "mode": "from scratch" if scratch else "fine-tune",
        "version": version,
        "sample_rate": rate,
        "base_g": None if scratch else f"f0G{tag}.pth",
        "base_d": None if scratch else f"f0D{tag}.pth",
        "base_dir": None if scratch else folder,
        "learning_rate": lr,
        "epochs": epochs,
        "batch_size": batch,
        "minutes": round(minutes, 1),
        "enough_data": minutes >= 10,
        "warnings": warnings,
    }
    rec["text"] = _recommend_text(rec, minutes)
    return rec


def _recommend_text(rec: dict, minutes: float) -> str:
    if minutes < 1:
        amount = f"{minutes * 60:.0f} seconds"
    elif minutes < 90:
        amount = f"{minutes:.0f} minutes"
    else:
        amount = f"{minutes / 60:.1f} hours"
    parts = [f"You have {amount} of usable audio."]
    if rec["mode"] == "fine-tune":
        parts.append(
            f"Fine-tune the {rec['version']} pretrained model ({rec['base_dir']}/"
            f"{rec['base_g']} and {rec['base_d']}) at {rec['sample_rate'] // 1000} kHz: "
            "starting from a model that already knows how voices sound needs far less data "
            "than learning from nothing.")
        parts.append(
            f"Train about {rec['epochs']} epochs at learning rate {rec['learning_rate']:g} "
            f"with batch size {rec['batch_size']}. Less audio means each epoch is short and "
            "the model needs more passes over it; with more audio each epoch already shows "
            "it plenty, and extra epochs only over-train (a metallic, breathy sound). Save "
            "checkpoints along the way and keep the one that sounds best.")
    else:
        parts.append(
            f"With more than 3 hours you can train from scratch (no pretrained base) at "
            f"{rec['sample_rate'] // 1000} kHz, which avoids inheriting the base model's "
            f"character. Use learning rate {rec['learning_rate']:g}, batch size "
            f"{rec['batch_size']} and about {rec['epochs']} epochs; fine-tuning the "
            "pretrained base also works and converges much sooner.")
    parts += [w[0].upper() + w[1:] + "." for w in rec["warnings"]]
    parts.append("Batch size is limited by GPU memory: halve it if training runs out of memory.")
    parts.append(f"Text-to-speech learns from the same clips with their text: it needs at least "
                 f"{TTS_MIN_MINUTES:.0f} minutes of labelled clips, and {TTS_GOOD_MINUTES:.0f} "
                 "minutes or more sound clearly better (the Labels page gives clips their text; "
                 "the Train page counts them).")
    return " ".join(parts)


# Text-to-speech (VITS) learns from clips with their text (docs/tts.md, "job"): the amounts
# below are those of its users' reports. From nothing, the published models took about
# 24 hours (LJ Speech, one voice); fine-tuning a pretrained base works from ~5 minutes and
# sounds clearly better from 30 minutes on.
TTS_MIN_MINUTES = 5.0
TTS_GOOD_MINUTES = 30.0
TTS_SCRATCH_HOURS = 10.0
TTS_STEPS = {"fine-tune": 10000, "from scratch": 100000}  # optimiser steps to aim for


def recommend_tts(labelled_seconds: float, labelled_rows: int) -> dict:
    """Mode, epochs and batch size for a text-to-speech run on this much labelled audio,
    with a text saying how much labelled audio TTS needs."""
    minutes = max(labelled_seconds, 0.0) / 60
    scratch = minutes >= TTS_SCRATCH_HOURS * 60
    mode = "from scratch" if scratch else "fine-tune"
    batch = 16 if minutes >= TTS_GOOD_MINUTES else 8
    steps_per_epoch = max(1, math.ceil(max(labelled_rows, 1) / batch))
    epochs = int(min(max(math.ceil(TTS_STEPS[mode] / steps_per_epoch), 10), 10000))
    rec = {"mode": mode, "minutes": round(minutes, 1), "rows": labelled_rows,
           "enough_data": minutes >= TTS_MIN_MINUTES, "learning_rate": 2e-4,
           "epochs": epochs, "batch_size": batch}
    rec["text"] = _tts_text(rec, labelled_seconds)
    return rec


def _tts_text(rec: dict, seconds: float) -> str:
    minutes = rec["minutes"]
    amount = (f"{seconds:.0f} seconds" if minutes < 1 else f"{minutes:.0f} minutes"
              if minutes < 90 else f"{minutes / 60:.1f} hours")
    parts = [f"You have {amount} of labelled speech ({rec['rows']} clips with their text)."]
    if not rec["enough_data"]:
        parts.append(
            f"Text-to-speech needs at least {TTS_MIN_MINUTES:.0f} minutes of clips with their "
            f"text, even from a pretrained base, and {TTS_GOOD_MINUTES:.0f} minutes or more "
            "sound clearly better: label more clips on the Labels page. With less, speak with "
            "a pretrained text-to-speech model and pass it through a voice-conversion model "
            "of this voice (Speak page, in the voice of), which needs far less audio.")
    elif rec["mode"] == "fine-tune":
        parts.append(
            f"Fine-tune a pretrained VITS base (its G_ and D_ files): learning to speak from "
            f"nothing takes many hours of speech (the published models used about 24). "
            f"{TTS_GOOD_MINUTES:.0f} minutes or more sound clearly better than less.")
    else:
        parts.append("That is enough to train from scratch (no base), which avoids the "
                     "base's accent; fine-tuning a base still converges much sooner.")
    parts.append(f"Train about {rec['epochs']} epochs (about {TTS_STEPS[rec['mode']]} steps) "
                 f"at learning rate {rec['learning_rate']:g} with batch size "
                 f"{rec['batch_size']}, and listen to the samples spoken at each save.")
    return " ".join(parts)


def build_report(slices: list[dict], source_errors: list[dict], sample_rate: int,
                 version: str = "v2") -> dict:
    """Summarise prepared clips: totals, flattened problems and the recommendation."""
    total = usable = 0.0
    usable_clips = 0
    problems: list[dict] = []
    counts: Counter[str] = Counter()
    for clip in slices:
        duration = float(clip.get("duration", 0.0))
        total += duration
        clip_problems = clip.get("problems") or []
        if not any(p.get("severity") == "error" for p in clip_problems):
            usable += duration
            usable_clips += 1
        for p in clip_problems:
            counts[p["kind"]] += 1
            problems.append({**p, "clip": clip.get("name"), "path": str(clip.get("path", "")),
                             "source": clip.get("source"), "start": clip.get("start"),
                             "end": clip.get("end")})
    return {
        "total_seconds": round(total, 3),
        "usable_seconds": round(usable, 3),
        "clips": len(slices),
        "usable_clips": usable_clips,
        "problems": problems,
        "problem_counts": dict(counts),
        "sources_failed": list(source_errors),
        "recommendation": recommend(usable, sample_rate, version),
    }
