"""Run every ``bench/bench_*.py`` (its ``main()`` returns a pandas DataFrame) and write
``bench/results/<name>.csv`` and ``<name>.md``. ``python bench/run.py [name ...]`` runs a subset.
Then print issue 16's targets against the results (``targets.py``) and write them to
``bench/results/targets.md`` and ``.csv``."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _markdown(table) -> str:
    cols = [str(c) for c in table.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    wanted = set(argv if argv is not None else sys.argv[1:])
    RESULTS.mkdir(exist_ok=True)
    ran = set()
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if wanted and name not in wanted and path.stem not in wanted:
            continue
        t0 = time.perf_counter()
        table = _load(path).main()
        table.to_csv(RESULTS / f"{name}.csv", index=False)
        (RESULTS / f"{name}.md").write_text(_markdown(table))
        print(f"\n== {name} ({time.perf_counter() - t0:.0f} s) ==\n{table.to_string(index=False)}\n")
        ran.add(name)
    import targets  # bench/, beside this file

    table = targets.evaluate(RESULTS, ran)
    table.to_csv(RESULTS / "targets.csv", index=False)
    (RESULTS / "targets.md").write_text(_markdown(table))
    print(f"\n== issue 16's targets ==\n{table.to_string(index=False)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
