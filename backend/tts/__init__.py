"""Text-to-speech: speaking text with a VITS model, optionally through a voice model.

See docs/tts.md.
"""
