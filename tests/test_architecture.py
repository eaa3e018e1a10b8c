"""The import rules of docs/architecture.md ("Who imports whom"), checked on the source: no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("catalog", "exporters", "rules", "dashboards", "sla", "drift", "api")
# Transcribed from docs/architecture.md's table; `drift` may be imported only for its metric names.
ALLOWED = {
    "catalog": set(),
    "exporters": {"catalog"},
    "rules": {"catalog", "exporters", "drift"},
    "dashboards": {"catalog", "exporters", "rules", "drift"},
    "sla": {"catalog", "rules", "exporters"},
    "drift": {"catalog", "exporters"},
    "api": set(PACKAGES),
}
NAMES_ONLY = {("rules", "drift"), ("dashboards", "drift")}


def _imports(package: str, root: Path = ROOT) -> list[tuple[Path, str]]:
    found = []
    for path in (root / package).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found.extend((path, name) for name in names if name.split(".")[0] in PACKAGES)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_what_the_architecture_allows(package: str) -> None:
    wrong = []
    for path, name in _imports(package):
        target = name.split(".")[0]
        if target == package:
            continue
        if target not in ALLOWED[package]:
            wrong.append(f"{path.relative_to(ROOT)} imports {name}")
        elif (package, target) in NAMES_ONLY and not (name == "drift" or name.startswith("drift.names")):
            wrong.append(f"{path.relative_to(ROOT)} imports {name} (only drift.names is allowed)")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_the_check_sees_a_lazy_forbidden_import(tmp_path: Path) -> None:
    # Imports inside functions (the lazy imports common here) and plain `import x.y` are both found.
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "m.py").write_text("import sla.report\ndef f():\n    from api.cli import app\n")
    names = sorted(name for _path, name in _imports("catalog", tmp_path))
    assert names == ["api.cli", "api.cli.app", "sla.report"]
