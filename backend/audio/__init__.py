"""Audio helpers of the backend: decoding, analysis for the editor, playback."""
