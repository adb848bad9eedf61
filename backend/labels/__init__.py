"""Labels: what every clip says (text, language, speaker, confidence, flag), the structural
edits of the proofreading table (split, merge, delete: clips cut exactly at given times), undo
and redo across the session, and import/export in the GPT-SoVITS and VITS list formats.
Everything lives in ``<project>/labels.json``, written atomically after every change."""
