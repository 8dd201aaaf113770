"""embed_catalogue and predict commands on real paintings."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from gallery.models import Artwork

pytestmark = pytest.mark.django_db(transaction=True)


def test_embed_catalogue_is_resumable_and_version_aware(demo_catalogue, style_model) -> None:
    # The fixture embedded everything: nothing left to do.
    out = StringIO()
    call_command("embed_catalogue", stdout=out, verbosity=0)
    assert "all artworks embedded" in out.getvalue()

    # An older model version's embeddings are redone; others are left alone.
    stale = list(Artwork.objects.order_by("id").values_list("id", flat=True)[:3])
    Artwork.objects.filter(id__in=stale).update(embedding_version="old-model")
    Artwork.objects.filter(id=stale[0]).update(embedding=None)
    out = StringIO()
    call_command("embed_catalogue", "--batch", "2", stdout=out, verbosity=0)
    assert "3 embedded" in out.getvalue()
    assert not Artwork.objects.exclude(embedding_version=style_model.version).exists()
    assert Artwork.objects.filter(embedding__isnull=True).count() == 0


def test_predict_json_good_and_bad_paths(demo_catalogue, style_model, tmp_path) -> None:
    good = settings.DEMO_CATALOGUE_DIR / demo_catalogue[0]["file"]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not a jpeg")
    out = StringIO()
    call_command("predict", str(good), str(tmp_path / "missing.jpg"), str(broken), "--json", stdout=out)

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 3
    first = lines[0]
    assert first["path"] == str(good) and first["model_version"] == style_model.version
    assert len(first["styles"]) == 5
    assert {s["style"] for s in first["styles"]} <= set(style_model.classes)
    assert [s["probability"] for s in first["styles"]] == sorted(
        (s["probability"] for s in first["styles"]), reverse=True
    )
    assert len(first["similar"]) == 10
    top = max(first["similar"], key=lambda m: m["visual_score"])
    assert top["artwork_id"] == Artwork.objects.get(source_id=demo_catalogue[0]["id"]).id
    assert set(top) >= {"title", "artist", "style", "visual_score", "influence_score", "score", "influence_path"}
    assert lines[1] == {"path": str(tmp_path / "missing.jpg"), "error": "file not found"}
    assert lines[2]["error"].startswith("unusable image")
