"""Speech recognition for labels: engines behind one small interface (``engine``), the
word-boundary cutting of long recordings, and what the ``transcribe`` job uses of them."""
