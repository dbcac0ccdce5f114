"""Runs every benchmark in bench/ and prints their figures: `make bench`.

Each benchmark runs in its own process on its own throw-away database (SQLite unless DATABASE_URL is set).
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    ["audit_chain.py", "--events", "20000"],
    ["project_list.py", "--projects", "100000"],
    ["rulebook.py"],
    ["coordination.py", "--sizes", "100000"],
    ["interop.py", "--count", "100000"],
]

if __name__ == "__main__":
    failed = 0
    for name, *args in BENCHMARKS:
        print(f"== {name} {' '.join(args)}", flush=True)
        failed |= subprocess.run([sys.executable, str(HERE / name), *args], cwd=HERE, check=False).returncode
    sys.exit(1 if failed else 0)
