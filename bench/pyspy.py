"""A py-spy profile in a few lines: the functions that most samples passed through.

    py-spy record --gil --format raw -r 100 --pid PID -o profile.txt   # while it works
    python -m bench.pyspy profile.txt [--only run_forever] [--top 40]

`--gil` keeps only the samples of the thread holding the interpreter, so the shares are
of the process's Python CPU time. `--only` keeps the stacks that pass through a function
of that name (the event loop's `BaseEventLoop.run_forever`, a pool thread's `_worker`),
and `--skip` drops those that do (`_find_and_load`: imports while the process started).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def frame_name(frame: str) -> str:
    """`function (path/to/file.py:12)` as `function file.py`."""
    function, _, where = frame.partition(" (")
    return f"{function} {where.split(':')[0].rsplit('/', 1)[-1]}".strip()


def summarise(
    lines: list[str], only: str | None = None, skip: str | None = None
) -> tuple[int, Counter[str]]:
    """The samples kept, and for each function how many of them passed through it."""
    through: Counter[str] = Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        frames = stack.split(";") if stack else []
        functions = {frame.partition(" (")[0] for frame in frames}
        if not frames or (only and only not in functions) or (skip and skip in functions):
            continue
        samples = int(count)
        total += samples
        for name in {frame_name(frame) for frame in frames}:
            through[name] += samples
    return total, through


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--only")
    parser.add_argument("--skip", default="_find_and_load")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    lines = args.profile.read_text().splitlines()
    total, through = summarise(lines, args.only, args.skip or None)
    print(f"{total} samples" + (f" through {args.only}" if args.only else ""))
    for name, samples in through.most_common(args.top):
        print(f"{100 * samples / max(total, 1):5.1f}%  {name}")


if __name__ == "__main__":
    main()
