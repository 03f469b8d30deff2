"""``povmap map`` of Kalimantan Selatan against ``GeoDataFrame.explore()`` + save, in rounds.

On a shared machine one run of each says little: the load changes between them. Here every
command is a fresh process, run in turn round after round (explore, povmap, [povmap from another
source tree], floor, explore, ...), and each round's ratio to ``explore()`` is taken, then the
median over the rounds. CPU seconds (user + system of the child) are the fairer measure when
other work shares the cores; wall seconds are reported too. The *floor* is what any approach
pays: ``import geopandas, folium`` and ``pyogrio.read_dataframe`` of the same file.

    python benchmarks/bench_map_pairs.py [--rounds 7] [--compare-src /path/to/old/src]

``--compare-src`` adds ``povmap map`` run from another source tree (e.g. ``git archive <commit>
src | tar -x -C /tmp/old``), to show a before and after in the same rounds. The commands and the
counts CSV are those of ``run_all.py``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import time
from pathlib import Path

from run_all import KALSEL, ROOT, WORK, counts_csv, explore_command, povmap_map_command, python


def run_once(argv: list[str], src: Path | None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one fresh process; fail loudly if it fails."""
    env = {**os.environ, "PYTHONPATH": str(src)} if src else dict(os.environ)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--compare-src", type=Path, default=None)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    counts = counts_csv(KALSEL, WORK / "kalsel.csv")
    commands: dict[str, tuple[list[str], Path | None]] = {
        "explore() + save": (explore_command(counts), None),
        "povmap map": (povmap_map_command(counts), ROOT / "src"),
    }
    if args.compare_src:
        old = povmap_map_command(counts, WORK / "kalsel_compared.html")
        commands["povmap map (compared)"] = (old, args.compare_src.resolve())
    floor = python(f"import geopandas, folium, pyogrio; pyogrio.read_dataframe({str(KALSEL)!r})")
    commands["floor: import geopandas, folium + read"] = (floor, None)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for round_ in range(args.rounds):
        for name, (argv, src) in commands.items():
            times[name].append(run_once(argv, src))
        load = os.getloadavg()[0]
        print(f"round {round_ + 1}/{args.rounds} done (load {load:.1f})", flush=True)
    base = times["explore() + save"]
    print("\n| command | cpu s | wall s | cpu / explore() | wall / explore() |")
    print("|---|---:|---:|---:|---:|")
    for name, runs in times.items():
        cpu = statistics.median(c for _, c in runs)
        wall = statistics.median(w for w, _ in runs)
        r_cpu = statistics.median(c / b for (_, c), (_, b) in zip(runs, base, strict=True))
        r_wall = statistics.median(w / b for (w, _), (b, _) in zip(runs, base, strict=True))
        print(f"| {name} | {cpu:.2f} | {wall:.2f} | {r_cpu:.2f} | {r_wall:.2f} |")


if __name__ == "__main__":
    main()
