"""Copy a small, deterministic demo subset of the full catalogue into demo/catalogue/.

usage: python scripts/make_demo_catalogue.py SRC_DIR [DEST_DIR] [--per-style N]

Per style it takes N paintings, preferring painters who have influence edges to other catalogue
painters (so the influence re-ranking has something to show), a few works per painter at most.
artists.csv keeps the painters of the subset and their direct influences; influences.csv the edges
between kept painters.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
from collections import defaultdict
from pathlib import Path


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def write(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("src", type=Path)
    parser.add_argument("dest", type=Path, nargs="?", default=Path(__file__).resolve().parent.parent / "demo/catalogue")
    parser.add_argument("--per-style", type=int, default=30)
    parser.add_argument("--per-painter", type=int, default=4)
    args = parser.parse_args()
    rng = random.Random(20261125)

    cat_fields, catalogue = read(args.src / "catalogue.csv")
    art_fields, artists = read(args.src / "artists.csv")
    inf_fields, influences = read(args.src / "influences.csv")
    painters_in_catalogue = {row["artist"] for row in catalogue if row["artist"]}
    linked = {
        name
        for edge in influences
        if edge["artist"] in painters_in_catalogue and edge["influenced_by"] in painters_in_catalogue
        for name in (edge["artist"], edge["influenced_by"])
    }

    by_style: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in catalogue:
        by_style[row["style"]].append(row)
    chosen: list[dict[str, str]] = []
    for style in sorted(by_style):
        rows = by_style[style][:]
        rng.shuffle(rows)
        rows.sort(key=lambda r: (r["artist"] not in linked, r["artist"] == ""))  # stable: linked first
        per_painter: dict[str, int] = defaultdict(int)
        picked = []
        for row in rows:
            if row["artist"] and per_painter[row["artist"]] >= args.per_painter:
                continue
            per_painter[row["artist"]] += 1
            picked.append(row)
            if len(picked) == args.per_style:
                break
        chosen += picked

    kept_painters = {row["artist"] for row in chosen if row["artist"]}
    edges = [e for e in influences if e["artist"] in kept_painters or e["influenced_by"] in kept_painters]
    kept_painters |= {name for e in edges for name in (e["artist"], e["influenced_by"])}

    if args.dest.exists():
        shutil.rmtree(args.dest)
    (args.dest / "images").mkdir(parents=True)
    for row in chosen:
        shutil.copy2(args.src / row["file"], args.dest / row["file"])
    write(args.dest / "catalogue.csv", cat_fields, sorted(chosen, key=lambda r: r["id"]))
    write(args.dest / "artists.csv", art_fields, [a for a in artists if a["name"] in kept_painters])
    write(args.dest / "influences.csv", inf_fields, edges)
    print(f"{len(chosen)} paintings, {len(kept_painters)} painters, {len(edges)} influences -> {args.dest}")


if __name__ == "__main__":
    main()
