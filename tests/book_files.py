"""What the book is made of, as the tests see it: its root and its table of contents."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import yaml

ROOT = Path(__file__).resolve().parent.parent


def toc_files(node=None) -> list[str]:
    """Every ``file`` entry of ``_toc.yml`` (or of a part of it), in order."""
    if node is None:
        node = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    found = []
    if isinstance(node, dict):
        if "file" in node:
            found.append(node["file"])
        for value in node.values():
            found.extend(toc_files(value) if isinstance(value, (dict, list)) else [])
    elif isinstance(node, list):
        for item in node:
            found.extend(toc_files(item))
    return found


def toc_root() -> str:
    """The landing page of ``_toc.yml``."""
    return yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))["root"]


def load_script(name: str, folder: str = "scripts") -> ModuleType:
    """Import ``<folder>/<name>.py`` (scripts and bench are not packages)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_experiments() -> ModuleType:
    """The recorded experiments' package, ``experiments/differential``."""
    folder = str(ROOT / "experiments")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module("differential")


def load_bench() -> ModuleType:
    """The benchmark's package, ``bench/benchmark`` (bench is not installed)."""
    folder = str(ROOT / "bench")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module("benchmark")
