"""Where code lives: layers whose imports run one way, no cycle, no ML library in the web process.

The layers, bottom first, are named in LAYERS and drawn in docs/architecture.md. Every import
counts: module level, inside functions, under `if TYPE_CHECKING:`. A lower layer starts work above
it only through gallery.handover, never by importing upwards.
"""

from __future__ import annotations

import ast
import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
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
import artsite.urls, gallery.views, gallery.api.urls, gallery.admin, gallery.services, gallery.selectors
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


# Bottom first. A module's layer is the one with its longest matching prefix; each app's name is the
# default for its modules. Arrows may run within a layer (without cycles) or downwards, never up.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("platform", ("artsite", "artsite.settings", "artsite.celery", "artsite.broker", "artsite.cache",
                  "artsite.signin_lockout", "artsite.errors")),
    ("records", ("gallery",)),
    ("derived", ("recommender",)),
    ("entry points", ("artsite.urls", "artsite.ops_urls", "artsite.health", "artsite.metrics", "artsite.wsgi",
                      "artsite.asgi", "gallery.views", "gallery.explore_views", "gallery.media_views",
                      "gallery.jobs_views", "gallery.upload_actions", "gallery.requester", "gallery.forms",
                      "gallery.urls", "gallery.auth_urls",
                      "gallery.api", "gallery.admin", "gallery.management", "recommender.tasks", "recommender.jobs",
                      "recommender.management", "recommender.apps")),
)  # fmt: skip
# Imported inside a function only to keep them out of a process that does not need them (the web).
HEAVY_LIBRARIES = {"numpy", "cv2", "tensorflow", "keras", "openTSNE", "sklearn", "matplotlib", "imagehash", "scipy"}
MAX_LINES = 400


def layer_of(module: str) -> int:
    best = max(
        ((len(prefix), rank) for rank, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes
         if module == prefix or module.startswith(prefix + ".")),
        default=None,
    )  # fmt: skip
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[1]


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str  # a project module, or a third-party top-level package
    line: int
    in_function: bool
    block: tuple[int, int]  # first and last line of the run of imports it belongs to (function level)
    type_only: bool = False  # under `if TYPE_CHECKING:`: an arrow for the layers, never run, so no cycle

    def __str__(self) -> str:
        return f"{self.source} → {self.target} (line {self.line})"


def _blocks(tree: ast.Module) -> dict[int, tuple[tuple[int, int], str]]:
    """For each import statement inside a function: its run of consecutive imports, and the function name."""
    found: dict[int, tuple[tuple[int, int], str]] = {}
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for holder in ast.walk(function):
            for field in ("body", "orelse", "finalbody", "handlers"):
                statements = getattr(holder, field, None)
                if not isinstance(statements, list):
                    continue
                run: list[ast.stmt] = []
                for statement in [*statements, None]:
                    if isinstance(statement, ast.Import | ast.ImportFrom):
                        run.append(statement)
                        continue
                    span = (run[0].lineno, run[-1].end_lineno or run[-1].lineno) if run else (0, 0)
                    for item in run:
                        found.setdefault(id(item), (span, function.name))
                    run = []
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _resolve(name: str, modules: set[str]) -> str:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def _arrows(path: Path, root: Path, modules: set[str]) -> list[Arrow]:
    """Every import of `path`, anywhere in the file, as arrows to project modules or third-party packages."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    blocks = _blocks(tree)
    type_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _is_type_checking(node)
        for inner in ast.walk(node)
    }
    arrows = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from pkg import module` imports that module; `from module import name` the module.
            targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target for a in node.names]
        else:
            continue
        block, function = blocks.get(id(node), ((node.lineno, node.lineno), ""))
        for target in targets:
            project = _resolve(target, modules)
            resolved = project or target.split(".")[0]
            if project and (project == name or name.startswith(project + ".")):
                continue  # the module itself, or a package it is part of
            arrows.append(Arrow(name, resolved, node.lineno, bool(function), block, id(node) in type_only))
            if function == "ready" and path.name == "apps.py":
                # AppConfig.ready(): Django allows model imports only once apps are loaded.
                object.__setattr__(arrows[-1], "in_function", False)
    return arrows


@dataclass
class Graph:
    root: Path
    modules: set[str]
    arrows: list[Arrow]
    sources: dict[str, list[str]]  # module -> its lines

    def edges(self) -> dict[str, set[str]]:
        """What importing each module runs: every arrow but the type-only ones."""
        edges: dict[str, set[str]] = {module: set() for module in self.modules}
        for arrow in self.arrows:
            if arrow.target in self.modules and not arrow.type_only:
                edges[arrow.source].add(arrow.target)
        return edges

    def arrow(self, source: str, target: str) -> Arrow:
        return next(a for a in self.arrows if a.source == source and a.target == target and not a.type_only)


def import_graph(root: Path, packages: tuple[str, ...]) -> Graph:
    files = [
        path
        for package in packages
        for path in (root / package).rglob("*.py")
        if "migrations" not in path.parts and "artifacts" not in path.parts
    ]
    modules = {_module_name(path, root) for path in files}
    arrows = [arrow for path in files for arrow in _arrows(path, root, modules)]
    sources = {_module_name(path, root): path.read_text(encoding="utf-8").splitlines() for path in files}
    return Graph(root, modules, arrows, sources)


def import_cycles(graph: Graph) -> list[list[str]]:
    """Every cycle the depth-first walk meets, as the chain of modules (first module repeated at the end)."""
    edges = graph.edges()
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


def _chain(graph: Graph, cycle: list[str]) -> str:
    return " → ".join(
        [cycle[0]] + [f"{b} (line {graph.arrow(a, b).line} of {a})" for a, b in itertools.pairwise(cycle)]
    )


def heavy_modules(graph: Graph) -> set[str]:
    """Project modules whose import loads a heavy library, directly or through their module-level imports."""
    direct: dict[str, set[str]] = {module: set() for module in graph.modules}
    heavy = set()
    for arrow in graph.arrows:
        if arrow.in_function or arrow.type_only:
            continue
        if arrow.target in graph.modules:
            direct[arrow.source].add(arrow.target)
        elif arrow.target in HEAVY_LIBRARIES:
            heavy.add(arrow.source)
    changed = True
    while changed:
        grown = {module for module, targets in direct.items() if targets & heavy} - heavy
        heavy |= grown
        changed = bool(grown)
    return heavy


def dodging_imports(graph: Graph) -> list[str]:
    """Function-level imports of project modules that do not keep a heavy library out of a process.

    Allowed: a run of imports inside a function that imports a heavy library itself, or that imports
    a module loading one and says so beside it (a comment with "heavy" in or right above the run).
    """
    heavy = heavy_modules(graph)
    blocks: dict[tuple[str, tuple[int, int]], list[Arrow]] = {}
    for arrow in graph.arrows:
        if arrow.in_function:
            blocks.setdefault((arrow.source, arrow.block), []).append(arrow)
    found = []
    for (module, (first, last)), arrows in sorted(blocks.items()):
        lines = graph.sources[module]
        above = first - 2
        while above >= 0 and lines[above].strip().startswith("#"):
            above -= 1
        said = "heavy" in "\n".join(lines[above + 1 : last]).lower()
        imports_heavy_library = any(a.target in HEAVY_LIBRARIES for a in arrows)
        for arrow in arrows:
            if arrow.target not in graph.modules or imports_heavy_library:
                continue
            if not (arrow.target in heavy and said):
                reason = "loads no heavy library" if arrow.target not in heavy else "no comment says why"
                found.append(f"{arrow}: {reason}")
    return found


def upward_arrows(graph: Graph) -> list[str]:
    names = [name for name, _ in LAYERS]
    return [
        f"{arrow}: {names[layer_of(arrow.source)]} → {names[layer_of(arrow.target)]}"
        for arrow in graph.arrows
        if arrow.target in graph.modules and layer_of(arrow.target) > layer_of(arrow.source)
    ]


def test_no_import_cycle_counting_every_import() -> None:
    graph = import_graph(ROOT, PACKAGES)
    cycles = import_cycles(graph)
    assert cycles == [], "import cycles:\n" + "\n".join(_chain(graph, cycle) for cycle in cycles)


def test_imports_run_down_the_layers_only() -> None:
    graph = import_graph(ROOT, PACKAGES)
    upward = upward_arrows(graph)
    assert upward == [], "arrows from a lower layer to a higher one:\n" + "\n".join(upward)


def test_imports_inside_functions_only_keep_heavy_libraries_out() -> None:
    found = dodging_imports(import_graph(ROOT, PACKAGES))
    assert found == [], "imports inside functions that keep no heavy library out:\n" + "\n".join(found)


def test_no_module_is_over_400_lines() -> None:
    graph = import_graph(ROOT, PACKAGES)
    long = {module: len(lines) for module, lines in graph.sources.items() if len(lines) > MAX_LINES}
    assert long == {}, f"split these by what they do: {long}"


def _package(tmp_path: Path, files: dict[str, str]) -> Graph:
    package = tmp_path / "shop"
    package.mkdir()
    for name, text in {"__init__.py": "", **files}.items():
        (package / name).write_text(text)
    return import_graph(tmp_path, ("shop",))


def test_the_checks_see_a_cycle_hidden_inside_a_function(tmp_path) -> None:
    """The checker is not vacuous: the shape the apps had (services → tasks, tasks importing services
    back inside a function) is a cycle, and that function-level import dodges it."""
    graph = _package(
        tmp_path,
        {
            "services.py": "from . import tasks\n",
            "tasks.py": "def later():\n    from shop import services\n",
            "models.py": "",
        },
    )
    assert import_cycles(graph) == [["shop.services", "shop.tasks", "shop.services"]]
    assert dodging_imports(graph) == ["shop.tasks → shop.services (line 2): loads no heavy library"]


def test_the_checks_allow_a_named_heavy_import_and_nothing_else(tmp_path) -> None:
    graph = _package(
        tmp_path,
        {
            "model.py": "import numpy\n",
            "light.py": "",
            "worker.py": (
                "def run():\n    # heavy: numpy, kept out of the web process\n    from . import model\n\n"
                "def other():\n    from . import model\n\n"
                "def third():\n    from . import light  # heavy\n"
            ),
        },
    )
    assert dodging_imports(graph) == [
        "shop.worker → shop.model (line 6): no comment says why",
        "shop.worker → shop.light (line 9): loads no heavy library",
    ]


def test_the_layer_check_names_an_upward_arrow() -> None:
    """The old hand-over (records importing the Celery task module) is reported with its layers."""
    arrow = Arrow("gallery.services", "recommender.tasks", 19, False, (19, 19))
    graph = Graph(ROOT, {"gallery.services", "recommender.tasks"}, [arrow], {})
    assert upward_arrows(graph) == ["gallery.services → recommender.tasks (line 19): records → entry points"]
