"""`python -m cdp.targets PROJECT_ROOT TARGET SQL`: the rows of SQL on a target, as JSON lines.

For checks and debugging from a process of its own (a local Spark's metastore admits one
process at a time, so a test cannot open it beside dbt).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cdp.targets import open_target


def main(argv: list[str]) -> int:
    root, target, query = argv
    with open_target(target, Path(root)) as tables:
        for row in tables.read(query).to_pylist():
            print(json.dumps(row, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
