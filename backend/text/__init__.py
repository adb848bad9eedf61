"""Text front-ends: how a transcript will be read aloud (numbers, symbols and abbreviations
spelled out per language), its phonemes or pinyin, and every character a front-end cannot
handle, named with where it is. Shared by the labels preview and text-to-speech training."""
