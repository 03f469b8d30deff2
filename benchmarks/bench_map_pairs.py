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

povmap runs in two states of its cache (:mod:`povmap._cache`, ``POVMAP_CACHE_DIR``): *first
run*, an empty cache folder each round (what a planner gets from a file new to them: everything
computed, and stored), and *second run*, a folder filled by one run before the rounds (the same
file mapped again). Everything is written to a fresh temporary folder (``--work``), never to the
shared ``/tmp/povmap-bench``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import run_all
from run_all import KALSEL, ROOT, counts_csv, explore_command, povmap_map_command, python

#: A command: its argv, the source tree on PYTHONPATH (None: none), and the cache folder
#: (None: left as it is; "fresh": an empty folder each run).
Command = tuple[list[str], Path | None, Path | str | None]


def run_once(
    argv: list[str], src: Path | None, cache: Path | str | None = None
) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one fresh process; fail loudly if it fails."""
    env = {**os.environ, "PYTHONPATH": str(src)} if src else dict(os.environ)
    if cache == "fresh":
        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=run_all.WORK))
    if cache is not None:
        env["POVMAP_CACHE_DIR"] = str(cache)
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
    parser.add_argument("--work", type=Path, default=None, help="folder for the outputs")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="povmap-pairs-"))
    work.mkdir(parents=True, exist_ok=True)
    run_all.WORK = work  # explore_command writes its page there
    counts = counts_csv(KALSEL, work / "kalsel.csv")
    trees = {"": ROOT / "src"}
    if args.compare_src:
        trees[" (compared)"] = args.compare_src.resolve()
    commands: dict[str, Command] = {"explore() + save": (explore_command(counts), None, None)}
    for suffix, src in trees.items():
        page = work / f"kalsel{suffix.strip(' ()')}.html"
        warm = work / f"cache{suffix.strip(' ()')}"
        run_once(povmap_map_command(counts, page), src, warm)  # fills the second run's cache
        commands[f"povmap map{suffix}, first run"] = (
            povmap_map_command(counts, page),
            src,
            "fresh",
        )
        commands[f"povmap map{suffix}, second run"] = (povmap_map_command(counts, page), src, warm)
    floor = python(f"import geopandas, folium, pyogrio; pyogrio.read_dataframe({str(KALSEL)!r})")
    commands["floor: import geopandas, folium + read"] = (floor, None, None)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for round_ in range(args.rounds):
        for name, (argv, src, cache) in commands.items():
            times[name].append(run_once(argv, src, cache))
        load = os.getloadavg()[0]
        print(f"round {round_ + 1}/{args.rounds} done (load {load:.1f})", flush=True)
    print(f"outputs in {work}")
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
