"""Feature extraction for training and conversion: pitch (f0) and content features."""
