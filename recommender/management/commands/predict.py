import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand

from gallery.images import ImageRejected, normalise_image
from gallery.selectors import artist_from_hint
from recommender.framing import frame_image
from recommender.ranking import RankedMatch, similar_works
from recommender.style_vote import voted_probabilities
from recommender.versions import active_style_model


def _similar_row(match: RankedMatch) -> dict[str, Any]:
    """A ranked match as a JSON object: the row the pipeline stores, with the artwork spelled out."""
    row = match.as_row()
    artwork = row["artwork"]
    return {
        "rank": row["rank"],
        "artwork_id": artwork.id,
        "title": artwork.display_title,
        "artist": artwork.artist.name if artwork.artist else None,
        "style": artwork.style.name,
        "visual_score": round(row["visual_score"], 6),
        "influence_score": round(row["influence_score"], 6),
        "score": round(row["final_score"], 6),
        "influence_path": row["influence_path"],
    }


class Command(BaseCommand):
    help = "Predict the style of images and list the most similar catalogue works (one JSON line per image)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--json", action="store_true", help="One JSON object per line per image")
        parser.add_argument("--artist", default=None, help="Painter of the images, if known")
        parser.add_argument("--top", type=int, default=5, help="Styles to list")
        parser.add_argument("--similar", type=int, default=10, help="Similar works to list")
        parser.add_argument(
            "--whole-photo", action="store_true", help="Analyse the whole image, without looking for a painting in it"
        )

    def handle(self, *args, paths: list[Path], artist: str | None, top: int, similar: int, **options) -> None:
        model = active_style_model()  # the model uploads are analysed with
        query_artist = artist_from_hint(artist or "")
        for path in paths:
            try:
                # The upload's path: checked and re-encoded as the site stores it, then framed as the worker
                # frames it, so the command and the site answer the same for the same file.
                stored = normalise_image(path.read_bytes())
                framing = frame_image(io.BytesIO(stored.read()), [] if options["whole_photo"] else None)
            except FileNotFoundError:
                self._emit(options["json"], {"path": str(path), "error": "file not found"})
                continue
            except ImageRejected as exc:
                self._emit(options["json"], {"path": str(path), "error": f"unusable image: {exc}"})
                continue
            probs, embeddings = model.predict_and_embed(framing.pixels[None])
            probs = voted_probabilities(model=model, probs=probs, embeddings=embeddings)
            order = np.argsort(-probs[0])[:top]
            ranking = similar_works(embeddings[0], query_artist=query_artist, k=similar)
            self._emit(
                options["json"],
                {
                    "path": str(path),
                    "model_version": model.version,
                    "painting": {
                        "source": framing.source,
                        "corners": framing.corners,
                        "confidence": framing.confidence,
                    },
                    "styles": [{"style": model.classes[i], "probability": round(float(probs[0][i]), 6)} for i in order],
                    "similar": [_similar_row(m) for m in ranking.matches],
                    "query_artist": ranking.query_artist.name if ranking.query_artist else None,
                    "influence_skipped": ranking.influence_skipped,
                },
            )

    def _emit(self, as_json: bool, result: dict) -> None:
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        elif "error" in result:
            self.stderr.write(f"{result['path']}: {result['error']}")
        else:
            styles = ", ".join(f"{s['style']} {s['probability']:.0%}" for s in result["styles"])
            self.stdout.write(f"{result['path']}: {styles}")
            if result["painting"]["corners"]:
                corners = " ".join(f"({x:.3f}, {y:.3f})" for x, y in result["painting"]["corners"])
                self.stdout.write(f"  painting found in the photo at {corners}; the answer is for it alone")
            for m in result["similar"]:
                painter = m["artist"] or "unknown"
                self.stdout.write(f"  {m['rank']:2}. {m['score']:.3f} {m['title']} — {painter} ({m['style']})")
