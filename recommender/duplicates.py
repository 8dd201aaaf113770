""" "Already in the catalogue": is an upload a copy, photo or crop of a catalogue work?

Decided from two signals together, each covering the other's blind spot:

* the embedding's cosine similarity to the nearest catalogue works (pgvector) survives crops,
  re-encoding and photographs, but two works of one painter in one series can come close;
* the perceptual hash (recommender.fingerprint) is nearly unchanged by re-encoding, resizing and
  blur, and near-random between different paintings, but a 10 % crop moves it a lot.

Rule: a candidate among the 5 nearest works is the same painting when its similarity is at least
SURE_SIMILARITY, or at least HASH_SIMILARITY with a hash within HASH_MAX_DISTANCE bits. The
thresholds were chosen on real catalogue pairs by bench/bench_duplicates.py; docs/explore.md gives
the measured false-positive and miss rates. Pure Python and SQL: safe in any process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .fingerprint import hamming
from .models import ArtworkFingerprint
from .search import Neighbour, nearest_artworks

CANDIDATES = 5
# Read off bench/bench_duplicates.py for the style model style-effnetlite0-fi-20261126 on the
# 11,670-work catalogue (seeds 1 and 2; docs/explore.md has the rates measured on fresh works, seed 3).
# With this model the closest unrelated work reached 0.835 once in 600 searches (two Kunisada prints
# of one series), hence 0.84 alone; copies cropped by 10 % rely on it and 8 of 300 score below.
# Re-encoded, resized and photographed copies are within 8 bits of their work's hash (95 %);
# unrelated works came no closer than 12 bits, except two pairs that are the same painting listed
# twice in the catalogue, so agreeing hashes allow a much lower similarity (photographed copies go
# down to 0.65). The old model (style-effnetlite0-20261125-alt), whose unrelated works came up to
# 0.853, had 0.86 here and the same hash part.
SURE_SIMILARITY = 0.84
HASH_SIMILARITY = 0.60
HASH_MAX_DISTANCE = 10


@dataclass(frozen=True)
class DuplicateMatch:
    artwork_id: int
    similarity: float
    hash_distance: int | None


def is_same_painting(similarity: float, hash_distance: int | None) -> bool:
    """The rule on one candidate (also what the benchmark evaluates)."""
    if similarity >= SURE_SIMILARITY:
        return True
    return hash_distance is not None and hash_distance <= HASH_MAX_DISTANCE and similarity >= HASH_SIMILARITY


def candidate_hashes(neighbour_lists: Iterable[Sequence[Neighbour]]) -> dict[int, str]:
    """The stored pHashes of the duplicate candidates (the first CANDIDATES) of every list, one query
    for a whole batch."""
    ids = {n.artwork.pk for row in neighbour_lists for n in row[:CANDIDATES]}
    return dict(ArtworkFingerprint.objects.filter(artwork_id__in=ids).values_list("artwork_id", "phash"))


def find_duplicate(
    *,
    embedding: Sequence[float],
    phash: str,
    exclude_ids: Sequence[int] = (),
    neighbours: Sequence[Neighbour] | None = None,
    hashes: Mapping[int, str] | None = None,
) -> DuplicateMatch | None:
    """The catalogue work this image is a copy of, or None. Two queries (neighbours, their hashes);
    none when the caller has the embedding's nearest works (`neighbours`, closest first) and their
    hashes (`hashes`, from `candidate_hashes`) already."""
    if neighbours is not None and len(neighbours) >= CANDIDATES and not exclude_ids:
        neighbours = list(neighbours[:CANDIDATES])
    else:
        neighbours, hashes = nearest_artworks(embedding, k=CANDIDATES, exclude_ids=exclude_ids), None
    if hashes is None:
        hashes = candidate_hashes([neighbours])
    matches = []
    for n in neighbours:
        stored = hashes.get(n.artwork.pk)
        distance = hamming(phash, stored) if phash and stored else None
        if is_same_painting(n.similarity, distance):
            matches.append(DuplicateMatch(artwork_id=n.artwork.pk, similarity=n.similarity, hash_distance=distance))
    # Several candidates pass only for near-identical works (a series); the closest hash, then embedding, wins.
    matches.sort(key=lambda m: (m.hash_distance if m.hash_distance is not None else 64, -m.similarity))
    return matches[0] if matches else None
