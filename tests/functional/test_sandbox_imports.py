"""The sandbox's import graph, as grimp reads it from the source (imports under TYPE_CHECKING
and inside functions count): no module of the sandbox takes part in an import cycle, and the
sandbox imports nothing of ebami but ebami.core, ebami.config, ebami.image and itself."""

from __future__ import annotations

import grimp
import pytest

SANDBOX = "ebami.sandbox"
# What the sandbox may import of ebami besides itself (the root package gives `__version__`).
ALLOWED = ("ebami.core", "ebami.config", "ebami.image")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # No cache: the test reads the source as it is, and writes nothing into the checkout.
    return grimp.build_graph("ebami", exclude_type_checking_imports=False, cache_dir=None)


def in_sandbox(module: str) -> bool:
    return module == SANDBOX or module.startswith(SANDBOX + ".")


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The graph's strongly connected components of more than one module (Tarjan's algorithm,
    without recursion): each is a set of modules that import one another, directly or not."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, imported = work[-1]
            target = next(imported, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append(
                        (target, iter(sorted(graph.find_modules_directly_imported_by(target))))
                    )
                elif target in on_stack:
                    low[module] = min(low[module], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for module in ("a", "a.one", "a.two", "a.three", "a.four"):
        graph.add_module(module)
    graph.add_import(importer="a.one", imported="a.two")
    graph.add_import(importer="a.two", imported="a.three")
    graph.add_import(importer="a.three", imported="a.one")
    graph.add_import(importer="a.three", imported="a.four")
    assert cycles(graph) == [["a.one", "a.three", "a.two"]]


def test_the_sandbox_has_no_import_cycle(graph: grimp.ImportGraph) -> None:
    tangled = [cycle for cycle in cycles(graph) if any(in_sandbox(m) for m in cycle)]
    assert not tangled, "modules that import one another: " + "; ".join(map(", ".join, tangled))


def test_the_sandbox_imports_only_core_config_image_and_itself(graph: grimp.ImportGraph) -> None:
    wrong = sorted(
        f"{importer} imports {imported}"
        for importer in graph.find_descendants(SANDBOX) | {SANDBOX}
        for imported in graph.find_modules_directly_imported_by(importer)
        if imported != "ebami"
        and not in_sandbox(imported)
        and not any(imported == a or imported.startswith(a + ".") for a in ALLOWED)
    )
    assert not wrong, "; ".join(wrong)
