"""Print the structure figures of a cftokens source tree (issue 14's before/after table).

    python scripts/structure_metrics.py                 # this checkout's sdk/cftokens
    python scripts/structure_metrics.py OTHER/sdk/cftokens   # e.g. a worktree of an older commit

Figures: lines of the largest modules and how many exceed 800 lines; imports of the package's
own modules made inside functions (TYPE_CHECKING blocks excluded; counted with ``ast``); the
highest cyclomatic complexity of any function (ruff's mccabe, C901).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path


def _own(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] == "cftokens"
    return any(alias.name.split(".")[0] == "cftokens" for alias in node.names)


def function_level_imports(path: Path) -> int:
    """Own-package imports inside a function body (not counting ``if TYPE_CHECKING:``)."""
    count = 0
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom) and _own(inner):
                    count += 1
    return count


def complexity(root: Path) -> list[tuple[int, str]]:
    """(complexity, 'file:function') of every function above 10, highest first."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            str(root),
            "--select",
            "C901",
            "--isolated",
            "--config",
            "lint.mccabe.max-complexity=10",
            "--output-format",
            "json",
            "--no-cache",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    rows = []
    for item in json.loads(out.stdout or "[]"):
        message = item["message"]  # "`name` is too complex (33 > 10)"
        name = message.split("`")[1]
        value = int(message.split("(")[1].split(" ")[0])
        rows.append((value, f"{Path(item['filename']).relative_to(root.parent)}:{name}"))
    return sorted(rows, reverse=True)


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "sdk/cftokens").resolve()
    files = sorted(root.rglob("*.py"))
    sizes = sorted(
        ((len(f.read_text(encoding="utf-8").splitlines()), f) for f in files), reverse=True
    )
    imports = sum(function_level_imports(f) for f in files)
    ranked = complexity(root)
    print(f"tree: {root}")
    print(f"modules: {len(files)}, lines: {sum(n for n, _ in sizes):,}")
    print(f"modules over 800 lines: {sum(1 for n, _ in sizes if n > 800)}")
    print("largest: " + ", ".join(f"{f.relative_to(root)} {n}" for n, f in sizes[:5]))
    print(f"function-level imports of the package's own modules: {imports}")
    print(f"functions with complexity > 10: {len(ranked)}")
    print("most complex: " + ", ".join(f"{name} {value}" for value, name in ranked[:3]))


if __name__ == "__main__":
    main()
