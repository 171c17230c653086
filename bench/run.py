"""Run every benchmark in bench/ (or those named) and collect the last JSON line of each.

Usage: python bench/run.py [name ...]   e.g. `make bench BENCH_ARGS=talent_search`
Each benchmark is a script `bench/<name>.py` that prints its figures, its last line one JSON object.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    scripts = sorted(
        p for p in HERE.glob("*.py") if p.name not in {"run.py", "__init__.py"} and not p.name.startswith("_")
    )
    if names:
        scripts = [p for p in scripts if p.stem in names]
    figures = []
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        proc = subprocess.run([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, check=False)  # noqa: S603
        print(proc.stdout, end="")
        last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "{}"
        figures.append(
            json.loads(last) if proc.returncode == 0 else {"bench": script.stem, "failed": proc.returncode}
        )
    print(json.dumps({"bench": "all", "results": figures}, ensure_ascii=False))
    return 0 if all("failed" not in f for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
