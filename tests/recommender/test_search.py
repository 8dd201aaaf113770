"""pgvector nearest-neighbour search through the ORM and the HNSW index."""

from __future__ import annotations

import numpy as np
import pytest

from gallery.models import Artwork, Style
from recommender.search import nearest_artworks

pytestmark = pytest.mark.django_db


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@pytest.fixture
def embedded_artworks() -> list[Artwork]:
    rng = np.random.default_rng(7)
    style = Style.objects.get(name="Baroque")
    centre = _unit(rng.normal(size=1280))
    artworks = []
    # Artwork i sits at growing distance from `centre`, so the expected order is 0, 1, 2, ...
    for i in range(12):
        noise = _unit(rng.normal(size=1280))
        vector = _unit(centre + noise * (0.1 + 0.15 * i))
        artworks.append(Artwork(source_id=f"v{i}", title=f"Work {i}", style=style, embedding=vector, image="x.jpg"))
    artworks.append(Artwork(source_id="no-emb", title="Not embedded", style=style, image="y.jpg"))
    Artwork.objects.bulk_create(artworks)
    return artworks, centre


def test_nearest_in_order_with_cosine_similarity(embedded_artworks) -> None:
    artworks, centre = embedded_artworks
    result = nearest_artworks(centre, k=5)

    assert [n.artwork.source_id for n in result] == ["v0", "v1", "v2", "v3", "v4"]
    expected = float(np.dot(centre, artworks[0].embedding))
    assert result[0].similarity == pytest.approx(expected, abs=1e-5)
    assert result[0].similarity > result[-1].similarity


def test_exclude_and_exact_agree(embedded_artworks) -> None:
    _, centre = embedded_artworks
    first = Artwork.objects.get(source_id="v0")
    approx = nearest_artworks(centre, k=10, exclude_ids=[first.id])
    exact = nearest_artworks(centre, k=10, exclude_ids=[first.id], exact=True)

    assert "v0" not in [n.artwork.source_id for n in approx]
    assert [n.artwork.id for n in approx] == [n.artwork.id for n in exact]
    assert len(approx) == 10  # the artwork without an embedding is never returned
