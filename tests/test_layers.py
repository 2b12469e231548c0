"""The packages stand on floors and import only downwards (docs/ARCHITECTURE.md).

Read from the source with ``ast``, so an import inside a function counts as much as one at
the top: a lazy import still ties the packages together.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("dsp", "presets", "models", "midi", "engine", "gui")
# what each package may import of ours (beside itself)
ALLOWED = {
    "dsp": set(),
    "presets": {"dsp"},
    "models": {"dsp", "presets"},
    "midi": {"dsp", "presets"},
    "engine": {"dsp", "presets", "models", "midi", "gui"},  # gui: the window entry alone
    "gui": {"engine", "presets", "dsp"},
}
WINDOW_ENTRY = "engine/commands/run.py"
# offline work lives in these rooms of the engine, never beside the real-time host
OFFLINE_ROOMS = ("engine/bench/", "engine/offline/", "engine/commands/")  # commands: the CLI
OFFLINE_WORDS = ("analysis", "bank", "bench", "mixdown", "similarity", "trigger_latency")


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports (absolute names; relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                names.append(".".join([*base, node.module] if node.module else base))
            else:
                names.append(node.module or "")
    return names


def _ours(name: str) -> str | None:
    top = name.split(".")[0]
    return top if top in PACKAGES else None


def test_every_package_imports_only_the_floors_below() -> None:
    broken = []
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        own = rel.split("/")[0]
        for name in _imports(path):
            top = _ours(name)
            if top is None or top == own:
                continue
            if top not in ALLOWED[own]:
                broken.append(f"{rel} imports {name}")
            elif top == "gui" and rel != WINDOW_ENTRY:
                broken.append(f"{rel} imports {name} (only {WINDOW_ENTRY} opens the window)")
    assert not broken, "\n".join(broken)


def test_no_cycle_between_packages() -> None:
    """Beside the one window entry (the run command opens the window, which calls back into
    the engine's session API), no package reaches back to itself."""
    edges: dict[str, set[str]] = defaultdict(set)
    for path in _modules():
        if path.relative_to(ROOT).as_posix() == WINDOW_ENTRY:
            continue
        own = path.relative_to(ROOT).parts[0]
        for name in _imports(path):
            top = _ours(name)
            if top is not None and top != own:
                edges[own].add(top)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in edges[start]:
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = [pkg for pkg in PACKAGES if reaches(pkg, pkg, {pkg})]
    assert not cycles, {pkg: sorted(edges[pkg]) for pkg in cycles}


def test_offline_work_stays_out_of_the_host() -> None:
    misplaced = []
    for path in (ROOT / "engine").rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(OFFLINE_ROOMS):
            continue
        if any(word in rel for word in OFFLINE_WORDS):
            misplaced.append(rel)
    assert not misplaced, misplaced


@pytest.mark.parametrize("package", PACKAGES)
def test_modules_stay_small(package: str) -> None:
    """A module over 600 lines holds more than one idea."""
    big = {p.relative_to(ROOT).as_posix(): n for p in (ROOT / package).rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600}
    assert not big, big


def test_functions_stay_short() -> None:
    """No function over 80 lines, except kernels whose length is the algorithm: those say
    so with a ``# long: ...`` comment on the line before their ``def``."""
    long = []
    for path in _modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = node.end_lineno - node.lineno + 1
            above = lines[max(0, first - 4): first - 1]
            excused = any(line.startswith("# long:") for line in above)
            if length > 80 and not excused:
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} {length}")
    assert not long, "\n".join(long)
