"""No module of ours imports its own caller, directly or in a circle.

The graph is read from the source with `ast`, as `tests/test_layering.py` reads it: every import
counts, at module level, inside functions and under `TYPE_CHECKING` (a lazy import is still a
dependency, and a cycle hidden behind one is still a tangle). `from package import name` is an
edge to the module `package.name` when there is one, else to the package. A package's own
`__init__` is not an implicit dependency of its modules: only what a file writes counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("bot", "ingest", "prompts", "vectorstore", "newsbot")

#: TODO (issue 25): cycles known when this test was written, each to be untangled by whoever
#: owns its modules; remove a line when its cycle is gone (the test fails on a line that no
#: longer matches, so the list only shrinks). Each is written as the test prints it: the
#: cycle's modules from its alphabetically first one, in import order.
KNOWN_CYCLES: frozenset[tuple[str, ...]] = frozenset()


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {
    _module_name(path): path for package in OURS for path in sorted((ROOT / package).rglob("*.py"))
}


def _imports(path: Path) -> set[str]:
    """The modules of ours that `path` imports (anywhere in the file)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in MODULES}


def import_graph() -> dict[str, set[str]]:
    """Each module of ours and the modules of ours it imports (itself left out)."""
    return {name: _imports(path) - {name} for name, path in MODULES.items()}


def cycles(graph: dict[str, set[str]]) -> set[tuple[str, ...]]:
    """The elementary cycles through each strongly connected component's modules, one shortest
    cycle per module of a component, each rotated to start at its alphabetically first module."""
    found: set[tuple[str, ...]] = set()
    for component in _components(graph):
        if len(component) < 2:
            continue
        for start in sorted(component):
            cycle = _shortest_cycle(graph, start, component)
            if cycle:
                first = cycle.index(min(cycle))
                found.add(tuple(cycle[first:] + cycle[:first]))
    return found


def _components(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components (iteratively: no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                result.append(component)
    return result


def _shortest_cycle(graph: dict[str, set[str]], start: str, within: set[str]) -> list[str]:
    """The shortest path from `start` back to itself inside `within` (breadth first)."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for child in sorted(graph[node] & within):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return path[::-1]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    return []


def _shown(cycle: tuple[str, ...]) -> str:
    return " -> ".join([*cycle, cycle[0]])


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    new = sorted(found - KNOWN_CYCLES)
    assert not new, "import cycles (break each one):\n" + "\n".join(map(_shown, new))


def test_known_cycles_still_exist() -> None:
    # A known cycle that is gone must leave the TODO list, so the list never hides a new one.
    gone = sorted(KNOWN_CYCLES - cycles(import_graph()))
    assert not gone, "fixed, remove from KNOWN_CYCLES:\n" + "\n".join(map(_shown, gone))


def test_the_check_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == {("a", "b", "c")}
