"""Copy a small, deterministic demo subset of the full catalogue into demo/catalogue/.

usage: python scripts/make_demo_catalogue.py SRC_DIR [DEST_DIR] [--per-style N]

Per style it takes N paintings, preferring painters who have influence edges to other catalogue
painters (so the influence re-ranking has something to show), a few works per painter at most.
artists.csv keeps the painters of the subset and their direct influences; influences.csv the edges
between kept painters.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gallery.catalogue_folder import CatalogueFolder, Table, write_table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("src", type=Path)
    parser.add_argument("dest", type=Path, nargs="?", default=Path(__file__).resolve().parent.parent / "demo/catalogue")
    parser.add_argument("--per-style", type=int, default=30)
    parser.add_argument("--per-painter", type=int, default=4)
    args = parser.parse_args()
    rng = random.Random(20261125)

    src = CatalogueFolder(args.src)
    cat_table, art_table, inf_table = src.catalogue(), src.artists(), src.influences()
    catalogue, artists, influences = cat_table.rows, art_table.rows, inf_table.rows
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
    write_table(args.dest / "catalogue.csv", Table(cat_table.fields, sorted(chosen, key=lambda r: r["id"])))
    write_table(args.dest / "artists.csv", Table(art_table.fields, [a for a in artists if a["name"] in kept_painters]))
    write_table(args.dest / "influences.csv", Table(inf_table.fields, edges))
    print(f"{len(chosen)} paintings, {len(kept_painters)} painters, {len(edges)} influences -> {args.dest}")


if __name__ == "__main__":
    main()
