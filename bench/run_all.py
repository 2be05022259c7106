"""Run every benchmark in bench/ and print their figures; the last line is one JSON object of all of them.

    python bench/run_all.py            # or: make bench
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    combined: dict[str, float] = {}
    failed = []
    for script in sorted(HERE.glob("*.py")):
        if script.name == "run_all.py" or script.name.startswith("_"):
            continue
        print(f"== {script.name}", flush=True)
        result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        sys.stderr.write(result.stderr)
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        for line in lines[:-1]:
            print(line)
        if result.returncode != 0 or not lines:
            failed.append(script.name)
            continue
        figures = json.loads(lines[-1])
        combined.update({f"{script.stem}.{key}": value for key, value in figures.items()})
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    print(json.dumps(combined))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
