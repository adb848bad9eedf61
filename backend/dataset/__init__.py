"""Dataset preparation: decoding, slicing, loudness, chunking and health checks.

The audio library lives in:

- ``audio_io``: probe and stream-decode any audio file (soundfile, ffmpeg for
  containers libsndfile cannot read), with clear ``AudioLoadError`` messages.
- ``dsp``: streaming high-pass, RMS framing, BS.1770 loudness, normalisation.
- ``slicer``: streaming silence slicer (RVC-like semantics, see docs/preparation.md).
- ``pipeline``: ``process_source`` turns one recording into training clips.
- ``health``: per-clip problems, the dataset report and training recommendation.
"""
