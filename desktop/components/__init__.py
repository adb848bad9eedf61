"""Qt-free desktop logic: models the Qt widgets in ``desktop.ui`` view."""
