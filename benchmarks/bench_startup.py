"""Side-by-side: how long ``povmap --help`` takes to start, against ``python -c "import click"``.

Every command is a fresh interpreter (what a user waits for). The commands run in turn, round after
round (A B C ... A B C ...), so that a machine slowing down or speeding up affects all of them
alike; the result is each command's median and its ratio to the click baseline. The target of
issue 12: ``povmap --help`` and ``povmap map --help`` within 1.5x of importing click.

    python benchmarks/bench_startup.py [--rounds 15] [--compare-src /path/to/old/src]

``--compare-src`` adds the same povmap commands run from another source tree (e.g. a checkout of
an older commit), to show a before and after in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

#: The console script ``povmap`` does exactly this: import povmap.cli and call main().
CLI = "from povmap.cli import main; main()"


def commands(src: Path, tag: str) -> dict[str, tuple[list[str], Path | None]]:
    """Name -> (argv, source tree on PYTHONPATH)."""
    py = sys.executable
    return {
        f"povmap --help{tag}": ([py, "-c", CLI, "--help"], src),
        f"povmap map --help{tag}": ([py, "-c", CLI, "map", "--help"], src),
        f"import povmap{tag}": ([py, "-c", "import povmap"], src),
    }


def run_once(argv: list[str], src: Path | None) -> float:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--compare-src",
        type=Path,
        default=None,
        help="another povmap source tree to time beside this one",
    )
    args = parser.parse_args()

    todo: dict[str, tuple[list[str], Path | None]] = {
        "python -c 'import click'": ([sys.executable, "-c", "import click"], None),
        **commands(SRC, ""),
    }
    if args.compare_src:
        todo.update(commands(args.compare_src.resolve(), " (compared tree)"))
    for argv, src in todo.values():  # warm the file cache and the bytecode caches once
        run_once(argv, src)
    times: dict[str, list[float]] = {name: [] for name in todo}
    for _ in range(args.rounds):
        for name, (argv, src) in todo.items():
            times[name].append(run_once(argv, src))

    baseline = statistics.median(times["python -c 'import click'"])
    print(f"{args.rounds} rounds, commands interleaved; python {sys.version.split()[0]}\n")
    print("| command | median s | min s | max s | ratio to import click |")
    print("|---|---:|---:|---:|---:|")
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"| {name} | {median:.3f} | {min(values):.3f} | {max(values):.3f} | "
            f"{median / baseline:.2f} |"
        )


if __name__ == "__main__":
    main()
