"""The command line starts fast: no torch for a --help, and no import cycle inside the package."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "vidstyle"
# numpy (~0.05 s) is allowed: the schedule options are parsed with it when the command line is built.
HEAVY = ("torch", "cv2", "av", "kornia", "onnxruntime", "scipy", "librosa", "ray")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module, package: str) -> set[str]:
    """vidstyle modules a module imports, at its top or inside functions (not under TYPE_CHECKING)."""
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node)
               for part in node.body for n in ast.walk(part)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("vidstyle")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if base.startswith("vidstyle"):
                found.add(base)
                found |= {f"{base}.{a.name}" for a in node.names}  # `from vidstyle.cli import run`
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the vidstyle modules it imports anywhere (only modules that exist)."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported = _imports(ast.parse(path.read_text()), package)
        graph[name] = {m for m in imported if m in files and m != name}
    return graph


def find_cycle(graph: dict[str, set[str]], among: str) -> list[str] | None:
    """One import cycle through modules whose names start with ``among``, or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node: str, stack: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(m for m in graph.get(node, set()) if m.startswith(among)):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt, stack + [nxt])):
                return cycle
        state[node] = 2
        return None

    for start in sorted(graph):
        if start.startswith(among) and start not in state and (cycle := visit(start, [start])):
            return cycle
    return None


def test_cycle_finder_finds_a_planted_cycle():
    graph = {"vidstyle.cli.a": {"vidstyle.cli.b"}, "vidstyle.cli.b": {"vidstyle.cli.c"},
             "vidstyle.cli.c": {"vidstyle.cli.a"}, "vidstyle.x": set()}
    assert find_cycle(graph, "vidstyle.cli") == ["vidstyle.cli.a", "vidstyle.cli.b", "vidstyle.cli.c",
                                                 "vidstyle.cli.a"]
    assert find_cycle({"vidstyle.cli.a": {"vidstyle.cli.b"}, "vidstyle.cli.b": set()}, "vidstyle.cli") is None


def test_the_graph_sees_the_command_modules():
    graph = import_graph()
    assert {"vidstyle.cli.run", "vidstyle.cli.logs", "vidstyle.cli.options"} <= graph["vidstyle.cli.app"]


def test_no_import_cycle_among_cli_modules():
    assert find_cycle(import_graph(), "vidstyle.cli") is None


@pytest.mark.parametrize("module", ["vidstyle.cli.app"])
def test_command_line_imports_no_heavy_library(module, tmp_path):
    """What `vidstyle --help` loads: typer and the option declarations, not torch or OpenCV."""
    code = f"import sys, {module}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                            cwd=tmp_path)  # the installed package, not the source tree beside the tests
    assert result.stdout.split() == []


def test_help_of_every_command_without_torch(tmp_path):
    """Every command's --help is answered from the option declarations alone."""
    code = ("import sys\nfrom vidstyle.cli.app import main\n"
            "for args in (['--help'], ['run', '--help'], ['image', '--help'], ['metrics', '--help'], "
            "['doctor', '--help'], ['webcam', '--help'], ['styles', 'list', '--help'], ['styles', 'sheet', '--help']):\n"
            "    main(args)\n"
            "print('LOADED', 'torch' in sys.modules, 'cv2' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True,
                            cwd=tmp_path)  # the installed package, not the source tree beside the tests
    assert "Usage: vidstyle run" in result.stdout and "--verbose" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "LOADED False False"


def test_a_render_start_loads_neither_onnx_nor_kornia(tmp_path):
    """The default render's stylizer comes from the cached copy of the weights (after the first start
    has read the ONNX file) without importing onnx (0.55 s), and kornia (0.1 s) waits for
    ``--preserve-color``."""
    code = ("import sys, torch\nfrom vidstyle.stylize.registry import StyleRequest, build_stylizer\n"
            "build_stylizer(StyleRequest(style='starry_night'), torch.device('cpu'))\n"
            "print('LOADED', 'onnx' in sys.modules, 'kornia' in sys.modules)")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True,
                           cwd=tmp_path, env=env).stdout.strip().splitlines()[-1] for _ in range(2)]
    assert runs == ["LOADED True False", "LOADED False False"]
