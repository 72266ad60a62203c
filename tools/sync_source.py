"""Reading the async classes for tools/generate_sync.py: names, imports, defaults, docstrings.

Annotations are read as the source wrote them (``from __future__ import annotations`` keeps
them as strings); each name in one is traced to the import or definition it comes from in the
module that defines the method, so the generated module can import it (under
``TYPE_CHECKING`` unless it is needed at run time, as a default value is).
"""

from __future__ import annotations

import ast
import inspect
import sys
from dataclasses import dataclass, field

import msgspec

from inro_async._transport import USE_CLIENT_DEFAULT

__all__ = [
    "Imports",
    "Unsupported",
    "annotation_text",
    "names_in",
    "origins",
    "public_members",
    "render_default",
    "summary",
]

SENTINELS: list[tuple[object, str, str]] = [
    (msgspec.UNSET, "msgspec", "UNSET"),
    (USE_CLIENT_DEFAULT, "inro_async._transport", "USE_CLIENT_DEFAULT"),
]
"""Default values that are objects, by identity: rendered as their name, imported at runtime."""


class Unsupported(Exception):
    """A member the script cannot twin yet; the message says what to teach it."""


# -- reading the async source ------------------------------------------------------------------


@dataclass
class Imports:
    """Where each name an annotation uses comes from, and what the generated module imports."""

    typing_only: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """name -> (module, attribute or None for ``import module``), under ``if TYPE_CHECKING``."""
    runtime: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def need(self, name: str, origin: tuple[str, str | None], *, runtime: bool = False) -> None:
        """Import ``name`` from ``origin`` (at run time, or for type checkers only)."""
        table = self.runtime if runtime else self.typing_only
        known = self.runtime.get(name) or self.typing_only.get(name)
        if known is not None and known != origin:
            raise Unsupported(f"the name {name!r} means {known} and {origin}: rename one")
        table[name] = origin

    def render(self) -> str:
        """The import statements (ruff's isort orders them afterwards)."""

        def lines(table: dict[str, tuple[str, str | None]], indent: str) -> list[str]:
            out = []
            for name, (module, attribute) in sorted(table.items()):
                if attribute is None:
                    out.append(
                        f"{indent}import {module}" + ("" if name == module else f" as {name}")
                    )
                elif attribute == name:
                    out.append(f"{indent}from {module} import {name}")
                else:
                    out.append(f"{indent}from {module} import {attribute} as {name}")
            return out

        typing_only = {k: v for k, v in self.typing_only.items() if k not in self.runtime}
        text = ["from __future__ import annotations", ""]
        text += lines(self.runtime, "")
        if typing_only:
            text += ["from typing import TYPE_CHECKING", "", "if TYPE_CHECKING:"]
            text += lines(typing_only, "    ")
        return "\n".join(text)


_ORIGINS: dict[str, dict[str, tuple[str, str | None]]] = {}


def origins(module_name: str) -> dict[str, tuple[str, str | None]]:
    """Every name ``module_name`` imports or defines at its top level (``TYPE_CHECKING`` too)."""
    if module_name in _ORIGINS:
        return _ORIGINS[module_name]
    tree = ast.parse(inspect.getsource(sys.modules[module_name]))
    found: dict[str, tuple[str, str | None]] = {}

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        found[alias.asname] = (alias.name, None)
                    else:
                        root = alias.name.split(".")[0]
                        found[root] = (root, None)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    found[alias.asname or alias.name] = (node.module, alias.name)
            elif isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                found[node.name] = (module_name, node.name)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = (module_name, target.id)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                found[node.target.id] = (module_name, node.target.id)
            elif isinstance(node, ast.If):  # if TYPE_CHECKING: (and any other top-level if)
                visit(node.body)
                visit(node.orelse)

    visit(tree.body)
    _ORIGINS[module_name] = found
    return found


def annotation_text(annotation: object) -> str:
    """An annotation as source text (as written, under ``from __future__ import annotations``)."""
    if annotation is inspect.Parameter.empty:
        raise Unsupported("every parameter and return needs an annotation")
    if isinstance(annotation, str):
        return annotation
    return inspect.formatannotation(annotation)


def names_in(text: str) -> set[str]:
    """The top-level names an annotation refers to (``os`` for ``os.PathLike[str]``)."""
    tree = ast.parse(text, mode="eval")
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            raise Unsupported(f"a quoted name inside an annotation ({text!r}): unquote it")
    return names


def render_default(value: object, imports: Imports) -> str:
    """A default value as source text: a literal, or a sentinel's name (imported)."""
    for sentinel, module, name in SENTINELS:
        if value is sentinel:
            imports.need(name, (module, name), runtime=True)
            return name
    if value is None or type(value) in (bool, int, float, str):
        return repr(value)
    if value == () and type(value) is tuple:
        return "()"
    raise Unsupported(f"a default of {value!r}: add it to SENTINELS in tools/sync_source.py")


def summary(function: object) -> str:
    """The first line of a docstring: the twin's first line too."""
    doc = inspect.getdoc(function)
    if not doc:
        raise Unsupported(f"{function!r} has no docstring to give its twin")
    return doc.splitlines()[0]


def public_members(cls: type) -> list[tuple[str, object]]:
    """Public attributes defined by ``cls`` and its bases (not ``object``), in source order."""
    seen: dict[str, object] = {}
    for klass in reversed(cls.__mro__[:-1]):
        for name, value in vars(klass).items():
            if not name.startswith("_"):
                seen[name] = value

    def position(item: tuple[str, object]) -> tuple[str, int]:
        value = item[1]
        function = getattr(value, "func", None) or getattr(value, "fget", None) or value
        code = getattr(function, "__code__", None)
        return (getattr(function, "__module__", ""), code.co_firstlineno if code else 0)

    return sorted(seen.items(), key=position)
