"""Package names loaded on first use (PEP 562), for the packages whose eager imports are slow.

A package lists what it exports once, as ``from ... import ...`` statements under
``if TYPE_CHECKING:`` in its ``__init__.py``: type checkers read them, and :class:`LazyExports`
reads them from the file (about 2 ms, once) to map each name to its module, which is imported
when the name is first asked for. ``__all__`` stays a literal list beside them (type checkers read
only literals); ``tests/unit/test_lazy_exports.py`` holds the two equal.
"""

from __future__ import annotations

import ast
import functools
import importlib
from pathlib import Path
from typing import Any


class LazyExports:
    """The module-level ``__getattr__`` and ``__dir__`` of the package whose ``__init__.py`` is
    ``init_file`` and whose globals are ``namespace``."""

    def __init__(self, init_file: str, namespace: dict[str, Any]) -> None:
        self._file = Path(init_file)
        self._namespace = namespace

    @functools.cached_property
    def exports(self) -> dict[str, str]:
        """Name -> module of every import under the package's ``if TYPE_CHECKING:``."""
        tree = ast.parse(self._file.read_text(encoding="utf-8"))
        block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
        return {a.asname or a.name: str(n.module) for n in block.body if isinstance(n, ast.ImportFrom)
                for a in n.names}

    def getattr(self, name: str) -> Any:
        module = self.exports.get(name)
        if module is None:
            raise AttributeError(f"module {self._namespace['__name__']!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        self._namespace[name] = value  # later lookups are ordinary attribute reads
        return value

    def dir(self) -> list[str]:
        return sorted({*self._namespace, *self.exports})
