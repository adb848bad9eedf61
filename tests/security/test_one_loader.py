"""One module owns every pickle read: the backend's source outside ``backend/safeload`` never
unpickles, and nothing anywhere in ``backend/`` asks torch for a full unpickle."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BACKEND = ROOT / "backend"
OWNER = BACKEND / "safeload"
PICKLE_MODULES = {"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "joblib", "shelve",
                  "pickletools", "copyreg"}
TORCH_LOADERS = {"torch.load", "torch.serialization.load", "torch.jit.load",
                 "torch.serialization._load", "torch.serialization._legacy_load"}
TEXT_PATTERNS = [re.compile(p) for p in (r"weights_only\s*=\s*False", r"allow_pickle\s*=\s*True",
                                         r"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")]


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> module or object it stands for (``import torch as t``, ``from torch
    import load``)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update({a.asname or a.name.split(".")[0]:
                          a.name if a.asname else a.name.split(".")[0] for a in node.names})
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.update({a.asname or a.name: f"{node.module}.{a.name}" for a in node.names})
    return names


def unpickling_in(source: str, filename: str = "<src>") -> list[str]:
    """What in ``source`` unpickles or could: pickle-module imports, torch loaders (however
    they are imported), any ``Unpickler``, ``np.load(allow_pickle=True)``."""
    tree = ast.parse(source, filename=filename)
    aliases, found = _aliases(tree), []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""]
            found += [f"{line}: imports {m}" for m in mods if m.split(".")[0] in PICKLE_MODULES]
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            head, _, rest = name.partition(".")
            full = ".".join(x for x in (aliases.get(head, head), rest) if x)
            if full in TORCH_LOADERS:
                found.append(f"{line}: calls {full}")
            kw = {k.arg: k.value for k in node.keywords}
            if isinstance(kw.get("allow_pickle"), ast.Constant) and kw["allow_pickle"].value:
                found.append(f"{line}: {name}(allow_pickle=True)")
        elif isinstance(node, ast.Name | ast.Attribute):
            ident = node.id if isinstance(node, ast.Name) else node.attr
            if "Unpickler" in ident:
                found.append(f"{line}: uses {ident}")
    return found


def test_no_unpickling_outside_the_one_loader() -> None:
    bad = []
    for path in sorted(BACKEND.rglob("*.py")):
        if OWNER in path.parents:
            continue
        rel = path.relative_to(ROOT)
        bad += [f"{rel}:{hit}" for hit in unpickling_in(path.read_text(encoding="utf-8"),
                                                         str(rel))]
    assert bad == []


def test_no_full_unpickle_anywhere_in_backend() -> None:
    bad = []
    for path in sorted(p for p in BACKEND.rglob("*") if p.is_file() and p.suffix != ".pyc"):
        text = path.read_text(encoding="utf-8", errors="replace")
        for pattern in TEXT_PATTERNS:
            bad += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert bad == []


def test_the_loader_only_calls_torch_load_weights_only() -> None:
    calls = []
    for path in sorted(OWNER.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _dotted(node.func) in TORCH_LOADERS:
                kw = {k.arg: k.value for k in node.keywords}
                calls.append((path.name, isinstance(kw.get("weights_only"), ast.Constant)
                              and kw["weights_only"].value is True,
                              "pickle_module" in kw))
    assert calls == [("loader.py", True, False)]


def test_the_walker_finds_what_it_looks_for() -> None:
    """The checks above cannot pass by looking at nothing."""
    sources = {
        "import torch\ntorch.load(p, weights_only=True)": "calls torch.load",
        "import torch as t\nt.load(p)": "calls torch.load",
        "from torch import load\nload(p)": "calls torch.load",
        "import torch\ntorch.jit.load(p)": "calls torch.jit.load",
        "import pickle\npickle.loads(b)": "imports pickle",
        "from pickle import Unpickler": "imports pickle",
        "class U(x.Unpickler): pass": "uses Unpickler",
        "import numpy as np\nnp.load(p, allow_pickle=True)": "allow_pickle=True",
    }
    for source, expected in sources.items():
        assert any(expected in hit for hit in unpickling_in(source)), source
    assert unpickling_in("import numpy as np\nnp.load(p, allow_pickle=False)") == []
    assert any(p.search("torch.load(f, weights_only = False)") for p in TEXT_PATTERNS)
