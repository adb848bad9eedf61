"""Voice conversion: voice model files, the models library and offline conversion.

``voice_model`` loads RVC inference models (ours and other tools'), ``settings`` holds the
conversion settings shared by offline and real-time conversion.
"""
