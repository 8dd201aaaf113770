"""Every URL an API response contains opens with the token that got it, and for no one else.

The walk reads the API as an app would: a token, no browser session. It starts from every GET
operation of the OpenAPI schema (so a new endpoint joins the walk by itself), finds every URL-valued
string in each answer (absolute URLs and site paths, whatever the field is called), fetches it with
the same token and checks its content type; JSON answers are walked in turn (paging links, details).
Each link to something of the owner's (an upload, its image, its heat map) must then answer 404 to
another user's token and to no token. It runs with local storage and with S3 (moto's server), where
an upload image's URL is signed for PRIVATE_MEDIA_URL_EXPIRE_S instead and served by the bucket.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError
from urllib.parse import parse_qs, urljoin, urlsplit

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from knox.models import AuthToken

from gallery.api import pagination
from gallery.models import EMBEDDING_DIM, Match, Prediction, Upload
from recommender.models import ArtworkPalette, MapLayout, MapPoint, UploadInsight
from recommender.palette import artwork_palette_store, palette_of_file
from recommender.versions import active_version
from tests.factories import artist_create, artwork_create, jpeg_bytes, style_get, upload_create
from tests.s3 import STORAGE_KEYS, bucket_make_catalogue_public

SITE = "http://testserver"
# Fields the walk must have met, so a renamed or dropped link cannot make it pass by finding nothing.
EXPECTED_FIELDS = {"url", "image", "heatmap_url", "page_url", "artwork_url", "next", "previous"}


def _vector(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(EMBEDDING_DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


@dataclass
class World:
    upload: Upload
    artist: Any
    other_artist: Any
    artwork: Any
    owner_token: str
    other_token: str
    s3: bool


@pytest.fixture(params=["local", "s3"])
def world(request, settings, owner, other_user, graph_clean, tmp_path, monkeypatch) -> World:
    """An analysed upload with every kind of result, a small catalogue on the map, two tokens."""
    s3 = request.param == "s3"
    if s3:
        endpoint, bucket = request.getfixturevalue("s3_endpoint"), request.getfixturevalue("s3_bucket")
        bucket_make_catalogue_public(endpoint, bucket)
        settings.MEDIA_ROOT = tmp_path / "web-media"
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "gallery.storage.MediaStorage",  # what production uses with a bucket
                "OPTIONS": {
                    "bucket_name": bucket,
                    "endpoint_url": endpoint,
                    "signature_version": "s3v4",
                    **STORAGE_KEYS,
                },
            },
        }
    # Two to a page, so every list has a next page and the paging links are walked too.
    monkeypatch.setattr(pagination.PageNumberPagination, "page_size", 2)
    version = active_version()
    style = style_get()
    artist, other_artist = artist_create(name="Camille Pissarro"), artist_create(name="Georges Seurat")
    graph_clean.upsert_artists([(artist.slug, artist.name), (other_artist.slug, other_artist.name)])
    graph_clean.upsert_influences([(other_artist.slug, artist.slug)])
    artworks = [
        artwork_create(
            title=f"Work {i}",
            artist=artist if i % 2 else other_artist,
            style=style,
            embedding=_vector(i),
            embedding_version=version,
        )
        for i in range(3)
    ]
    for artwork in artworks:
        with artwork.image.open("rb") as handle:
            artwork_palette_store(artwork_id=artwork.pk, colours=palette_of_file(handle))
    layout = MapLayout.objects.create(model_version=version, method="test", point_count=len(artworks))
    MapPoint.objects.bulk_create(
        MapPoint(layout=layout, artwork=artwork, x=0.5 + i / 100, y=0.5) for i, artwork in enumerate(artworks)
    )

    uploads = [upload_create(owner=owner) for _ in range(3)]
    upload = uploads[0]
    Upload.objects.filter(pk=upload.pk).update(
        status=Upload.Status.DONE,
        stage=Upload.Stage.DONE,
        progress=100,
        model_version=version,
        embedding=_vector(0),
        query_artist=artist,
    )
    upload.refresh_from_db()
    Prediction.objects.create(upload=upload, style=style, probability=0.9, rank=1, model_version=version)
    Match.objects.bulk_create(
        Match(upload=upload, artwork=artwork, rank=rank, visual_score=0.9, final_score=0.9)
        for rank, artwork in enumerate(artworks[1:], start=1)
    )
    insight = UploadInsight.objects.create(
        upload=upload, duplicate_of=artworks[0], duplicate_similarity=0.97, heatmap_style=style.name
    )
    insight.heatmap.save(f"heat-{upload.pk}.jpg", ContentFile(jpeg_bytes(color=(250, 200, 0))), save=True)
    assert ArtworkPalette.objects.count() == len(artworks)
    return World(
        upload=upload,
        artist=artist,
        other_artist=other_artist,
        artwork=artworks[0],
        owner_token=AuthToken.objects.create(user=owner)[1],
        other_token=AuthToken.objects.create(user=other_user)[1],
        s3=s3,
    )


# --- The walk ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    via: tuple[str, ...]  # the redirects followed, in order


def _fetch(url: str, token: str | None) -> Answer:
    """GET `url` as an app would: the site with `Authorization: Token`, anything else (the bucket) plainly,
    following redirects (the heat map with S3 answers with one to its signed URL)."""
    via: list[str] = []
    for _ in range(5):
        if urlsplit(url).netloc in ("", "testserver"):
            client = Client(HTTP_AUTHORIZATION=f"Token {token}") if token else Client()
            response = client.get(url)
            if response.status_code in (301, 302, 303, 307, 308):
                via.append(url)
                url = urljoin(url, response["Location"])
                continue
            body = b"".join(response.streaming_content) if response.streaming else response.content
            return Answer(response.status_code, response.get("Content-Type", ""), body, tuple(via))
        try:
            with urllib.request.urlopen(url, timeout=10) as remote:
                return Answer(remote.status, remote.headers.get("Content-Type", ""), remote.read(), tuple(via))
        except HTTPError as exc:
            return Answer(exc.code, exc.headers.get("Content-Type", ""), exc.read(), tuple(via))
    raise AssertionError(f"too many redirects from {url}")


def _links(value: Any, field: str = "") -> list[tuple[str, str]]:
    """Every (field, URL) in a JSON value: absolute http(s) URLs and paths of this site, at any depth."""
    if isinstance(value, dict):
        return [link for key, item in value.items() for link in _links(item, key)]
    if isinstance(value, list):
        return [link for item in value for link in _links(item, field)]
    if isinstance(value, str) and re.match(r"^(https?://|/)", value):
        return [(field, value)]
    return []


def _private(url: str) -> bool:
    """Whether `url` is one of the owner's things: an upload in the API, its image, its heat map."""
    return "/uploads/" in urlsplit(url).path


def _start_urls(world: World) -> list[str]:
    """Every GET operation of the schema, with ids and required query parameters filled in."""
    ids = {"uploads": world.upload.pk, "artworks": world.artwork.pk, "artists": world.artist.pk}
    required = {"to": world.other_artist.pk, "colours": "b45a28"}  # the factories' JPEG colour
    schema = SchemaGenerator().get_schema(request=None, public=True)
    urls = []
    for path, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        resource = path.strip("/").split("/")[1]
        url = path.replace("{id}", str(ids[resource])) if "{id}" in path else path
        params = [
            p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query" and p.get("required")
        ]
        missing = set(params) - set(required)
        assert not missing, f"{path} needs {missing}: give the walk a value for them"
        if params:
            url += "?" + "&".join(f"{name}={required[name]}" for name in params)
        urls.append(url)
    return urls


def _expect_type(field: str, url: str, answer: Answer) -> None:
    if field in ("image", "heatmap_url"):
        assert answer.content_type.startswith("image/"), (field, url, answer.content_type)
        assert answer.body[:2] == b"\xff\xd8", (field, url, "not a JPEG")
    elif urlsplit(url).path.startswith("/api/"):
        assert answer.content_type.startswith("application/json"), (field, url, answer.content_type)
    else:
        assert answer.content_type.startswith("text/html"), (field, url, answer.content_type)


def test_every_url_in_every_answer_opens_with_the_same_token_and_for_no_one_else(world: World) -> None:
    point_id = str(world.artwork.pk)  # `artwork_url` of the map is a template: "/artworks/{id}/"
    queue = deque(("start", url) for url in _start_urls(world))
    seen: set[str] = set()
    fields: Counter[str] = Counter()
    private_links: set[tuple[str, str]] = set()
    while queue:
        field, url = queue.popleft()
        url = urljoin(SITE + "/", url.replace("{id}", point_id))
        fields[field] += 1
        if url in seen:
            continue
        seen.add(url)
        answer = _fetch(url, world.owner_token)
        assert answer.status == 200, (field, url, answer.status, answer.body[:300])
        if field != "start":
            _expect_type(field, url, answer)
            if _private(url) or any(_private(hop) for hop in answer.via):
                private_links.add((field, url))
        if answer.content_type.startswith("application/json"):
            queue.extend(_links(json.loads(answer.body)))

    assert set(fields) >= EXPECTED_FIELDS, f"the walk met only {sorted(fields)}"
    assert {field for field, _ in private_links} >= {"url", "image", "heatmap_url", "next"}, private_links
    for field, url in sorted(private_links):
        if urlsplit(url).netloc != "testserver":
            # S3: an upload image's URL is itself the permission, for PRIVATE_MEDIA_URL_EXPIRE_S seconds.
            assert world.s3 and field == "image", (field, url)
            query = parse_qs(urlsplit(url).query)
            assert query["X-Amz-Expires"] == ["300"] and "X-Amz-Signature" in query, url
            continue
        for token in (world.other_token, None):
            answer = _fetch(url, token)
            who = "another user's token" if token else "no token"
            if token is None and url.startswith(SITE + "/api/"):
                assert answer.status == 401, (field, url, who, answer.status)
            elif answer.status == 200 and urlsplit(url).path == "/api/uploads/":
                # A page of "my uploads" is the other user's own list: it must hold nothing of the owner's.
                assert f"/api/uploads/{world.upload.pk}/" not in answer.body.decode(), (field, url, who)
            else:
                assert answer.status == 404, (field, url, who, answer.status)


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        own = {value["$ref"].rsplit("/", 1)[-1]} if "$ref" in value else set()
        return own.union(*(_refs(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(item) for item in value))
    return set()


def _url_properties(schema: dict) -> list[tuple[str, str, str]]:
    """(component, property, description) of every URL-valued property of what the API answers."""
    components = schema["components"]["schemas"]
    answered = _refs([op.get("responses", {}) for item in schema["paths"].values() for op in item.values()])
    pending = list(answered)
    while pending:  # components inside components
        for ref in _refs(components[pending.pop()]) - answered:
            answered.add(ref)
            pending.append(ref)
    found = []
    for component in sorted(answered):
        for name, prop in components[component].get("properties", {}).items():
            items = prop.get("items", {})
            if "uri" in (prop.get("format"), items.get("format")) or name.endswith("url") or name == "image":
                found.append((component, name, prop.get("description", "")))
    return found


def test_the_schema_says_who_may_open_each_url_and_for_how_long(settings) -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    properties = _url_properties(schema)
    assert {name for _, name, _ in properties} >= EXPECTED_FIELDS
    for component, name, description in properties:
        assert re.search(r"opens (only )?for", description, re.IGNORECASE), (component, name, description)
        if name in ("image", "heatmap_url") and "owner" in description:
            assert f"{settings.PRIVATE_MEDIA_URL_EXPIRE_S} s" in description, (component, name, description)
