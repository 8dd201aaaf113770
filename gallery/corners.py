"""The corners a person sets for where the painting is in their photo: checked before anything is stored.

Pure Python (the web process checks them; the worker warps with them in recommender.framing). Corners
are four [x, y] points as fractions of the stored image's width and height, clockwise on screen from
the top-left, the form the results page and the API both send and show.
"""

from __future__ import annotations

import json
from typing import Any

MIN_AREA = 0.02  # a painting smaller than 2 % of the photo is more likely a slip of the mouse


class CornersRejected(ValueError):
    """The corners cannot be used; the message is written for the person who sent them."""


def corners_clean(value: Any) -> list[list[float]]:
    """Four [x, y] fractions as a clean list, or CornersRejected. Accepts a list or its JSON text."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise CornersRejected("The corners could not be read; send four [x, y] pairs.") from exc
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise CornersRejected("Send exactly four corners, each as [x, y].")
    points: list[list[float]] = []
    for point in value:
        if not isinstance(point, list | tuple) or len(point) != 2:
            raise CornersRejected("Each corner is a pair [x, y] of fractions of the image's width and height.")
        try:
            x, y = float(point[0]), float(point[1])
        except (TypeError, ValueError) as exc:
            raise CornersRejected("Corner positions must be numbers between 0 and 1.") from exc
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise CornersRejected("Every corner must lie inside the image (x and y between 0 and 1).")
        points.append([round(x, 5), round(y, 5)])
    # Convex and clockwise on screen (y down): every turn has the same, positive, sign.
    turns = []
    for i in range(4):
        (ax, ay), (bx, by), (cx, cy) = points[i], points[(i + 1) % 4], points[(i + 2) % 4]
        turns.append((bx - ax) * (cy - by) - (by - ay) * (cx - bx))
    if not all(t > 0 for t in turns):
        raise CornersRejected("The corners must go round the painting clockwise from its top-left, without crossing.")
    area = 0.5 * sum(points[i][0] * points[(i + 1) % 4][1] - points[(i + 1) % 4][0] * points[i][1] for i in range(4))
    if area < MIN_AREA:
        raise CornersRejected("The outline is too small: it must cover at least 2 % of the photo.")
    return points


FRAMINGS = {"auto": "Find the painting in the photo", "whole": "Use the whole photo", "corners": "Use these corners"}


def framing_request(*, framing: str, corners: Any = None) -> list[list[float]] | None:
    """What `Upload.corners_requested` becomes for a person's choice: None ("auto": find it), []
    ("whole": the whole photo) or the clean corners ("corners"). Raises CornersRejected."""
    if framing == "auto":
        return None
    if framing == "whole":
        return []
    if framing == "corners":
        return corners_clean(corners)
    raise CornersRejected("Choose where the painting is: auto, whole or corners.")
