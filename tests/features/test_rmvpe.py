"""Our RMVPE implementation: state-dict compatibility, loading errors, decoding, chunking.

No real weights exist here: the model gets random weights and is saved in the real format
(a plain state dict, fp16 like the published file), then read back through the real loader.
"""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.signal import medfilt

from backend.features.f0 import extract_f0
from backend.features.rmvpe import (
    CENTS_OFFSET,
    LogMel,
    RmvpeNet,
    RmvpePredictor,
    RmvpeWeightsError,
    check_state_dict,
    load_rmvpe_net,
    salience_to_f0,
)

MANIFEST = Path(__file__).resolve().parents[1] / "data" / "reference" / \
    "rmvpe_state_dict_manifest.json"
SR = 16000


@functools.cache
def _random_state_cached() -> dict[str, torch.Tensor]:
    torch.manual_seed(1234)
    net = RmvpeNet()
    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            if name.endswith("running_mean"):
                tensor.normal_(0.0, 0.1)
            elif name.endswith("running_var"):
                tensor.uniform_(0.8, 1.2)
            elif name.endswith("num_batches_tracked"):
                tensor.fill_(1000)
            elif name.endswith("bn.weight") or ".conv.1.weight" in name:
                tensor.uniform_(0.8, 1.2)
    return {k: v.clone() for k, v in net.state_dict().items()}


def _random_state() -> dict[str, torch.Tensor]:
    """A fresh dict (tensors shared, never modified in place) of one random model."""
    return dict(_random_state_cached())


def _save_like_release(state: dict[str, torch.Tensor], path: Path) -> Path:
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, path)
    return path


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models") / "Stimmen – Ωmega 声"
    folder.mkdir()
    return _save_like_release(_random_state(), folder / "rmvpe.pt")


@pytest.fixture(scope="module")
def plain_net(weights: Path) -> RmvpeNet:
    return load_rmvpe_net(weights)


@pytest.fixture(scope="module")
def predictor(weights: Path) -> RmvpePredictor:
    return RmvpePredictor.from_file(weights)


def _sweep(seconds: float) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    rng = np.random.default_rng(0)
    tone = 0.3 * np.sin(2 * np.pi * (150 + 40 * t) * t)
    return (tone + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def test_state_dict_equals_manifest_exactly(weights: Path) -> None:
    manifest = json.loads(MANIFEST.read_text())
    ours = {k: list(v.shape) for k, v in RmvpeNet().state_dict().items()}
    assert sorted(ours) == sorted(manifest)
    mismatched = {k: (ours[k], manifest[k]) for k in manifest if ours[k] != manifest[k]}
    assert mismatched == {}
    assert len(ours) == 741
    on_disk = torch.load(weights, map_location="cpu", weights_only=True)
    assert {k: list(v.shape) for k, v in on_disk.items()} == manifest


def test_reload_through_real_loader(plain_net: RmvpeNet) -> None:
    net = plain_net
    expected = _random_state()
    loaded = net.state_dict()
    assert not net.training
    for key, value in expected.items():
        want = value.half().float() if value.is_floating_point() else value
        assert torch.equal(loaded[key], want), key
    assert loaded["unet.encoder.bn.num_batches_tracked"].item() == 1000


def test_wrong_shape_names_key_and_both_shapes(tmp_path: Path) -> None:
    state = _random_state()
    state["fc.1.weight"] = torch.zeros(360, 256)
    path = _save_like_release(state, tmp_path / "rmvpe bad.pt")
    with pytest.raises(RmvpeWeightsError) as info:
        load_rmvpe_net(path)
    message = str(info.value)
    assert "fc.1.weight" in message
    assert "[360, 256]" in message and "[360, 512]" in message
    assert str(path) in message


def test_missing_and_extra_keys_are_listed() -> None:
    state = _random_state()
    del state["cnn.bias"]
    state["extra.thing"] = torch.zeros(2)
    with pytest.raises(RmvpeWeightsError) as info:
        check_state_dict(state, source="my rmvpe.pt")
    message = str(info.value)
    assert "missing key cnn.bias (expected shape [3])" in message
    assert "unexpected key extra.thing" in message
    assert message.startswith("my rmvpe.pt does not match")
    with pytest.raises(RmvpeWeightsError, match="expected a dict of tensors"):
        check_state_dict([1, 2, 3])


def test_missing_or_garbage_file_says_what_to_do(tmp_path: Path) -> None:
    absent = tmp_path / "nowhere" / "rmvpe.pt"
    for path in (absent, None):
        with pytest.raises(RmvpeWeightsError) as info:
            load_rmvpe_net(path)
        text = str(info.value)
        assert "rmvpe.pt" in text and "181 MB" in text
        assert "python -m backend assets download rmvpe" in text
    assert str(absent) in str(pytest.raises(RmvpeWeightsError, load_rmvpe_net, absent).value)
    garbage = tmp_path / "rmvpe.pt"
    garbage.write_bytes(b"not a torch file at all")
    with pytest.raises(RmvpeWeightsError, match="Cannot read"):
        load_rmvpe_net(garbage)
    with pytest.raises(RmvpeWeightsError, match="rmvpe"):
        extract_f0(np.zeros(1600, np.float32), "rmvpe", rmvpe_path=absent)


def test_no_path_uses_the_installed_asset(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.assets import MissingAsset
    from backend.features.f0 import F0Extractor

    monkeypatch.setenv("TIMBRE_DATA_DIR", str(tmp_path / "empty data dir"))
    with pytest.raises(MissingAsset) as info:
        F0Extractor().extract(np.zeros(1600, np.float32), "rmvpe")
    assert "rmvpe.pt" in str(info.value)
    assert info.value.details["download_command"] == "python -m backend assets download rmvpe"


def test_decoding_of_a_known_peak() -> None:
    bins = np.arange(360)
    sal = np.zeros((4, 360))
    sal[0] = 0.9 * np.exp(-0.5 * ((bins - 100.0) / 1.5) ** 2)  # symmetric peak at bin 100
    sal[1] = 0.9 * np.exp(-0.5 * ((bins - 100.5) / 1.5) ** 2)  # half-way to bin 101
    sal[2] = 0.02  # below the 0.03 threshold -> unvoiced
    sal[3, 359] = 0.5  # peak at the top edge (window clipped)
    f0 = salience_to_f0(sal)

    def hz(cents: float) -> float:
        return 10 * 2 ** (cents / 1200)

    assert f0[0] == pytest.approx(hz(2000 + CENTS_OFFSET), rel=1e-5)
    assert f0[1] == pytest.approx(hz(2010 + CENTS_OFFSET), rel=1e-3)
    assert f0[2] == 0.0
    assert f0[3] == pytest.approx(hz(20 * 359 + CENTS_OFFSET), rel=1e-5)


@pytest.mark.parametrize("n", [0, 1, 159, 160, 513, 16080])
def test_output_length_alignment(predictor: RmvpePredictor, n: int) -> None:
    salience = predictor.salience(_sweep(1.1)[:n])
    assert salience.shape == (n // 160 + 1, 360)
    assert salience_to_f0(salience).shape == (n // 160 + 1,)


def test_deterministic(predictor: RmvpePredictor) -> None:
    audio = _sweep(1.0)
    first, second = predictor.salience(audio), predictor.salience(audio)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(predictor.f0(audio), predictor.f0(audio))


def test_chunked_equals_unchunked(predictor: RmvpePredictor) -> None:
    audio = _sweep(2.0)  # 201 frames -> 3 chunks of 96
    whole = RmvpePredictor(predictor.net, chunk_frames=4096).salience(audio)
    chunked = RmvpePredictor(predictor.net, chunk_frames=96, context_frames=64).salience(audio)
    np.testing.assert_allclose(chunked, whole, atol=1e-4)
    # without context the chunk edges differ: the comparison above can detect a bad join
    no_context = RmvpePredictor(predictor.net, chunk_frames=96, context_frames=0)
    assert np.abs(no_context.salience(audio) - whole).max() > 1e-3


def test_fused_inference_matches_plain_network(predictor: RmvpePredictor,
                                               plain_net: RmvpeNet) -> None:
    # the predictor folds batch norms into the convolutions; the plain network is the truth
    plain = plain_net
    def batch_norms(net: torch.nn.Module) -> int:
        return sum(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())

    assert batch_norms(plain) == 118
    assert batch_norms(predictor.net) == 1  # only the input one, which follows no conv
    audio = _sweep(1.0)
    padded = torch.from_numpy(np.pad(audio, 512, mode="reflect"))
    mel = LogMel()(padded)[None]  # 101 frames
    mel = torch.nn.functional.pad(mel, (0, 128 - mel.shape[-1]))
    with torch.inference_mode():
        expected = plain(mel)[0, :101].numpy()
    np.testing.assert_allclose(predictor.salience(audio), expected, atol=1e-5)


def test_extract_f0_with_rmvpe_file_is_raw(weights: Path, predictor: RmvpePredictor) -> None:
    # RVC leaves RMVPE's output as decoded (threshold 0.03): no median, no range clipping
    audio = _sweep(1.0)
    f0 = extract_f0(audio, "rmvpe", rmvpe_path=weights)
    assert f0.dtype == np.float32 and f0.shape == (101,)
    raw = predictor.f0(audio)
    np.testing.assert_allclose(f0, raw, rtol=1e-4)
    # random weights jump and leave 50..1100 Hz: a median or a range check would change
    # the track, so this comparison can fail (how many frames a median changes depends on
    # the threads torch runs with, so at least one)
    assert np.sum(np.abs(medfilt(raw.astype(np.float64), 3) - raw) > 1.0) >= 1
    assert np.any((raw > 0) & ((raw < 50) | (raw > 1100)))


def test_speed_is_reported(predictor: RmvpePredictor) -> None:
    audio = _sweep(3.0)
    predictor.salience(audio[:SR])  # warm-up
    start = time.perf_counter()
    predictor.salience(audio)
    seconds = time.perf_counter() - start
    print(f"\nRMVPE (random full-size weights, {torch.get_num_threads()} threads): "
          f"{seconds:.2f} s for 3 s of audio = {3.0 / seconds:.1f}x real time")
