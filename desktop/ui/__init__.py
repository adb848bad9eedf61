"""Qt widgets. Each ``QtX`` views a Qt-free model from ``desktop.components``."""
