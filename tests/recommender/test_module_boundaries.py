"""Where code lives: the web side (gallery) stays free of ML libraries and no module imports itself back."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("artsite", "gallery", "recommender")

# Records, in a fresh interpreter, which file first imported each ML library.
SPY = """
import json, sys, traceback
WATCHED = {"numpy", "tensorflow", "keras"}
importers = {}

class Spy:
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in WATCHED and top not in importers:
            frames = [f.filename for f in traceback.extract_stack()[:-1]]
            callers = [f for f in frames if "importlib" not in f and not f.startswith("<")]
            importers[top] = callers[-1] if callers else "?"
        return None

sys.meta_path.insert(0, Spy())
import django
django.setup()
import artsite.urls, gallery.views, gallery.api.views, gallery.admin, gallery.services, gallery.selectors
import gallery.forms, gallery.models, recommender.tasks, recommender.pipeline
print(json.dumps({"importers": importers, "loaded": sorted(WATCHED & set(sys.modules))}))
"""


def test_web_modules_import_no_ml_library_themselves() -> None:
    """Importing every web-side module (and the task module the web process sends tasks through)
    loads neither TensorFlow nor Keras, and nothing of this project imports numpy.

    numpy itself may still appear: the Neo4j driver imports it when installed (optional support of
    vector values), which this records as the importer and allows.
    """
    out = subprocess.run(
        [sys.executable, "-c", SPY],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "artsite.settings.test"},
        check=True,
        timeout=120,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "tensorflow" not in result["loaded"] and "keras" not in result["loaded"], result
    project_importers = {
        lib: path
        for lib, path in result["importers"].items()
        if Path(path).is_relative_to(ROOT) and ".venv" not in Path(path).parts
    }
    assert project_importers == {}, f"project code imports ML libraries in the web process: {project_importers}"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _module_level_imports(path: Path, root: Path, modules: set[str]) -> set[str]:
    """Project modules imported when `path` is imported (module level; not inside functions or
    `if TYPE_CHECKING:` blocks, which do not run at import)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and not _is_type_checking(node):
            pending += node.body + node.orelse
        elif isinstance(node, ast.Try):
            pending += node.body + node.orelse + node.finalbody
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}  # `from pkg import module`
    return {module for module in found if module in modules and module != name}


def _import_cycles(root: Path, packages: tuple[str, ...]) -> list[list[str]]:
    files = [
        path
        for package in packages
        for path in (root / package).rglob("*.py")
        if "migrations" not in path.parts and "artifacts" not in path.parts
    ]
    modules = {_module_name(path, root) for path in files}
    edges = {_module_name(path, root): _module_level_imports(path, root, modules) for path in files}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                cycles.append([*trail[trail.index(target) :], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    return cycles


def test_no_import_cycle_between_project_modules() -> None:
    cycles = _import_cycles(ROOT, PACKAGES)
    assert cycles == [], "import cycles: " + "; ".join(" → ".join(cycle) for cycle in cycles)


def test_the_cycle_check_sees_the_old_services_tasks_cycle(tmp_path) -> None:
    """The checker is not vacuous: the shape gallery had before (services ↔ tasks) is reported."""
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "services.py").write_text("from . import tasks\n")
    (package / "tasks.py").write_text("from shop import services\n\ndef later():\n    from . import models\n")
    (package / "models.py").write_text("from .services import create  # noqa\n")
    assert _import_cycles(tmp_path, ("shop",)) == [["shop.services", "shop.tasks", "shop.services"]]
