"""Real-time conversion: the block engine, audio streams (PortAudio or files), the live job."""
