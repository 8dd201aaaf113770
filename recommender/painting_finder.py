"""Find the painting in a photo of a wall (the picture inside its frame) and straighten it.

Pure image code (numpy, OpenCV, Pillow): no Django, no TensorFlow, so the worker, `manage.py predict`,
the benchmark and the tests call the same functions.

Classical geometry, not a learned detector: nothing to train or ship, milliseconds on a CPU, and each
refusal has a reason one can read. Two stages, each using what a museum wall is like:
1. **The framed object.** A wall is calm: few edges, reaching the photo's border. The flat pixels
   connected to the border are the wall; what they enclose is the frame with its painting. Its outline
   must be a plausible rectangle seen in perspective, and the wall must go round most of the photo's
   border (a clean scan or a tight crop has painting there, so nothing is found and the caller uses the
   whole image unchanged).
2. **The picture inside the frame.** The outer quad is warped to a rectangle (the frame lies in the
   wall's plane, so one homography straightens both), where the frame is a band of even width along
   all four sides. The inner edge is the depth at which the four sides together show the strongest
   step in colour, the band before it being even along its length (a frame is; a painting is not).
   A painted dark border belongs to the canvas: the outermost strong step wins over deeper ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

# One thread: the images are small, the worker already frames two uploads at once, and OpenCV's pool
# keeps its threads spinning after each call, taking the cores the forward pass that follows needs.
cv2.setNumThreads(1)

WORK_SIDE = 400  # detection size: a 25 % painting is ~170 px across here, enough for corners within 1 %
FLAT_GRADIENT = 6.0  # Lab units per work pixel above which a pixel is never wall
MIN_FLAT_GRADIENT = 1.5  # ... and below which it always may be
MIN_AREA = 0.12  # share of the photo the frame must cover
MAX_AREA = 0.92  # larger is the photo itself (a scan or a tight crop)
MAX_UNFRAMED = 0.6  # without a frame seen, a larger quad is more likely a print's margin than a wall
MIN_STRAIGHT = 0.9  # share of the outline on the quad's four sides
SCAN_AREA, SCAN_TILT = 0.7, 1.0  # share and degrees: a quad this large and this square is a scan's margin
MAX_TILT = 20.0  # degrees a side may lean from the upright (yaw and roll together)
MIN_WALL_BORDER = 0.75  # share of the photo's border that must be wall
RECT_SIDE = 320  # long side of the rectified frame, where the inner edge is looked for
MAX_BAND = 0.22  # the frame's width at most, as a share of the rectified short side
MIN_STEP = 6.0  # Lab step at the inner edge, averaged over four sides, for a frame to count
EVEN_BAND = 2.5  # Lab spread along a line that is even whatever the painting (light fall-off, noise)


@dataclass(frozen=True)
class Quad:
    """Four corners in pixels of the image given, clockwise from top-left, and how sure we are."""

    corners: tuple[tuple[float, float], ...]
    confidence: float

    def array(self) -> np.ndarray:
        return np.asarray(self.corners, dtype=np.float64)

    def normalised(self, size: tuple[int, int]) -> list[list[float]]:
        """Corners as fractions of (width, height): what a page or the API stores and draws."""
        width, height = size
        return [[round(x / width, 5), round(y / height, 5)] for x, y in self.corners]


def order_corners(points: np.ndarray) -> np.ndarray:
    """Four points as top-left, top-right, bottom-right, bottom-left (clockwise on screen)."""
    points = np.asarray(points, dtype=np.float64).reshape(4, 2)
    centre = points.mean(axis=0)
    points = points[np.argsort(np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0]))]
    return np.roll(points, -int(np.argmin(points.sum(axis=1))), axis=0)


def quad_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two convex quads."""
    a32, b32 = np.asarray(a, np.float32).reshape(-1, 2), np.asarray(b, np.float32).reshape(-1, 2)
    inter, _ = cv2.intersectConvexConvex(a32, b32)
    union = cv2.contourArea(a32) + cv2.contourArea(b32) - inter
    return float(inter / union) if union > 0 else 0.0


def plausible(corners: np.ndarray, size: tuple[int, int], min_area: float = 0.02) -> bool:
    """A rectangle seen from at most ~40° off-axis, inside the image: what a found quad may be (a
    person's corners are checked in the web process by gallery.corners, without OpenCV)."""
    corners = np.asarray(corners, np.float64).reshape(4, 2)
    width, height = size
    if not cv2.isContourConvex(corners.astype(np.float32).reshape(-1, 1, 2)):
        return False
    if (
        corners.min() < -0.01 * max(size)
        or (corners[:, 0] > width * 1.01).any()
        or (corners[:, 1] > height * 1.01).any()
    ):
        return False
    for i in range(4):
        a, b = corners[i - 1] - corners[i], corners[(i + 1) % 4] - corners[i]
        if abs(a @ b) > 0.6 * np.linalg.norm(a) * np.linalg.norm(b):  # a corner outside 53°–127°
            return False
    sides = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)
    opposite = sides[0] / max(sides[2], 1e-9), sides[1] / max(sides[3], 1e-9)
    area = cv2.contourArea(corners.astype(np.float32))
    return all(0.55 < r < 1.8 for r in opposite) and area >= min_area * width * height


def find_painting(image: Image.Image) -> Quad | None:
    """The painting's corners in `image` (its own pixels), or None when no convincing frame is seen."""
    rgb = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    height, width = rgb.shape[:2]
    scale = min(1.0, WORK_SIDE / max(height, width))
    small = cv2.resize(rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    outer = _framed_object(small)
    if outer is None:
        return None
    outer_full = outer / scale
    inner, step = _picture_inside(rgb, outer_full)
    share = cv2.contourArea(outer.astype(np.float32)) / (small.shape[0] * small.shape[1])
    if inner is None and share > MAX_UNFRAMED:
        return None  # a scan with a plain margin, not a canvas on a wall
    if share > SCAN_AREA and _tilt(outer) < SCAN_TILT:
        return None  # square to the pixel grid and filling the image: a scan's paper margin, not a photo
    confidence = 0.6 if inner is None else min(1.0, 0.6 + step / 40)
    corners = outer_full if inner is None else inner
    if not plausible(corners, (width, height), MIN_AREA / 2):
        return None
    return Quad(tuple((float(x), float(y)) for x, y in corners), round(confidence, 3))


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB in real units (L 0–100, a/b about ±100), so thresholds read as colour differences."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB)


def _framed_object(small: np.ndarray) -> np.ndarray | None:
    """Corners (work pixels) of the framed painting: what the calm, border-touching wall encloses."""
    height, width = small.shape[:2]
    lab = _lab(cv2.GaussianBlur(small, (0, 0), 1.0))
    gradient = np.zeros((height, width), np.float32)
    for channel in range(3):
        gx = cv2.Sobel(lab[:, :, channel], cv2.CV_32F, 1, 0, ksize=3) / 8
        gy = cv2.Sobel(lab[:, :, channel], cv2.CV_32F, 0, 1, ksize=3) / 8
        gradient += gx * gx + gy * gy
    gradient = np.sqrt(gradient)
    # The wall's own texture (grain, light fall-off, noise) sets what counts as calm: three times the
    # typical gradient along the photo's border, within fixed bounds.
    ring = np.concatenate(
        [gradient[:4].ravel(), gradient[-4:].ravel(), gradient[:, :4].ravel(), gradient[:, -4:].ravel()]
    )
    threshold = float(np.clip(3 * np.median(ring), MIN_FLAT_GRADIENT, FLAT_GRADIENT))
    flat = (gradient < threshold).astype(np.uint8)
    flat = cv2.erode(flat, np.ones((5, 5), np.uint8))  # closes gaps of up to two pixels in an edge
    _, labels = cv2.connectedComponents(flat, connectivity=4)
    border = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    wall_labels = [n for n in np.unique(border) if n != 0]
    wall = np.isin(labels, wall_labels)
    border_wall = np.isin(border, wall_labels).mean()
    if border_wall < MIN_WALL_BORDER:
        return None  # painting reaches the border: a scan, a crop or a detail
    objects = (~wall).astype(np.uint8)
    contours, _ = cv2.findContours(objects, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    centre = np.array([width / 2, height / 2])
    best: tuple[float, np.ndarray] | None = None
    for contour in contours:
        area = cv2.contourArea(contour)
        if not MIN_AREA * width * height <= area <= MAX_AREA * width * height:
            continue
        corners = _quad_of(contour)
        if corners is None or not plausible(corners, (width, height), MIN_AREA) or _tilt(corners) > MAX_TILT:
            continue
        quad_area = cv2.contourArea(corners.astype(np.float32))
        if area < 0.9 * quad_area or area > 1.1 * quad_area or _straightness(contour, corners) < MIN_STRAIGHT:
            continue  # not a rectangle's outline (a figure against a plain background)
        offset = np.linalg.norm(corners.mean(axis=0) - centre) / np.linalg.norm(centre)
        rank = quad_area * (1.0 - 0.7 * offset)  # the big one in the middle is the subject
        if best is None or rank > best[0]:
            best = (rank, corners)
    return None if best is None else best[1]


def _straightness(contour: np.ndarray, corners: np.ndarray) -> float:
    """Share of the outline's points lying on the quad's sides (within 1.5 % of its size): a frame's
    outline is four straight lines, a figure's is not."""
    points = contour.reshape(-1, 2)[:: max(1, len(contour) // 400)]
    quad = corners.astype(np.float32).reshape(-1, 1, 2)
    tolerance = 0.015 * np.sqrt(cv2.contourArea(quad)) + 1.0
    distances = [abs(cv2.pointPolygonTest(quad, (float(x), float(y)), True)) for x, y in points]
    return float(np.mean(np.asarray(distances) <= tolerance))


def _tilt(corners: np.ndarray) -> float:
    """How far (degrees) the most leaning side is from horizontal (top, bottom) or vertical (left, right)."""
    worst = 0.0
    for i in range(4):
        dx, dy = np.abs(corners[(i + 1) % 4] - corners[i])
        worst = max(worst, np.degrees(np.arctan2(dy, dx) if i % 2 == 0 else np.arctan2(dx, dy)))
    return worst


def _quad_of(contour: np.ndarray) -> np.ndarray | None:
    """Four corners of a contour's convex hull, each side refined by a line fit to its points."""
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    for epsilon in (0.01, 0.02, 0.035, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, epsilon * perimeter, True)
        if len(approx) <= 4:
            break
    if len(approx) != 4:
        return None
    corners = order_corners(approx.reshape(4, 2))
    points = contour.reshape(-1, 2).astype(np.float32)
    lines = []
    for i in range(4):
        p, q = corners[i], corners[(i + 1) % 4]
        length = np.linalg.norm(q - p)
        direction = (q - p) / max(length, 1e-9)
        rel = points - p
        along = rel @ direction
        across = np.abs(rel[:, 0] * direction[1] - rel[:, 1] * direction[0])
        near = (along > 0.1 * length) & (along < 0.9 * length) & (across < max(2.0, 0.03 * length))
        if near.sum() < 8:
            return corners
        vx, vy, x0, y0 = cv2.fitLine(points[near], cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append(np.cross([x0, y0, 1.0], [x0 + vx, y0 + vy, 1.0]))
    refined = []
    for i in range(4):
        x, y, w = np.cross(lines[i - 1], lines[i])
        if abs(w) < 1e-9:
            return corners
        refined.append((x / w, y / w))
    refined = np.asarray(refined)
    return refined if np.abs(refined - corners).max() < 0.05 * np.ptp(corners, axis=0).max() else corners


def rectified_size(corners: np.ndarray, long_side: int | None = None) -> tuple[int, int]:
    """Width and height of the rectangle a quad is the perspective image of, estimated as the mean of
    its opposite sides (the camera is unknown, so the foreshortening of a side view is not undone
    exactly), scaled to `long_side` when given."""
    corners = np.asarray(corners, np.float64)
    sides = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)
    width, height = (sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2
    if long_side is not None:
        factor = long_side / max(width, height)
        width, height = width * factor, height * factor
    return max(8, round(width)), max(8, round(height))


def _homography(corners: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    width, height = size
    target = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    return cv2.getPerspectiveTransform(np.asarray(corners, np.float32), target)


def _picture_inside(rgb: np.ndarray, outer: np.ndarray) -> tuple[np.ndarray | None, float]:
    """The picture's corners inside the frame `outer` (image pixels) and the step found at its edge;
    (None, 0) when no even band runs round the quad (an unframed canvas: the quad is the picture)."""
    size = rectified_size(outer, RECT_SIDE)
    warp = _homography(outer, size)
    flat = cv2.warpPerspective(rgb, warp, size, flags=cv2.INTER_AREA)
    lab = _lab(cv2.GaussianBlur(flat, (0, 0), 0.8))
    width, height = size
    short = min(width, height)
    depth = int(MAX_BAND * short)
    # Four profiles from the outside in: mean colour and spread along lines parallel to each side,
    # over the middle 70 % of the side (its ends lie in the other sides' bands).
    sides = [
        lab[:depth, int(0.15 * width) : int(0.85 * width)],  # top: rows
        lab[::-1][:depth, int(0.15 * width) : int(0.85 * width)],  # bottom
        lab[:, :depth][int(0.15 * height) : int(0.85 * height)].transpose(1, 0, 2),  # left
        lab[:, ::-1][:, :depth][int(0.15 * height) : int(0.85 * height)].transpose(1, 0, 2),  # right
    ]
    middle = lab[int(0.3 * height) : int(0.7 * height), int(0.3 * width) : int(0.7 * width)]
    interior = float(middle.std(axis=1).mean())  # how busy the painting is along a line
    means = np.stack([s.mean(axis=1) for s in sides])  # (4, depth, 3)
    spread = np.stack([s.std(axis=1).mean(axis=1) for s in sides])  # (4, depth)
    gap = 2  # compare the rows just before and just after each depth
    steps = np.zeros((4, depth))
    for d in range(gap, depth - gap):
        steps[:, d] = np.linalg.norm(means[:, d : d + gap].mean(axis=1) - means[:, d - gap : d].mean(axis=1), axis=1)
    # The frame's outer edge is found at a quarter of the size, so it lies a few pixels either side of
    # depth 0 here: the search starts past the strongest step near the outside.
    near = max(gap + 1, int(0.05 * short))
    start = gap + int(np.argmax(steps[:, gap:near].mean(axis=0))) + 3
    # The frame's width is the same on all sides: a depth scores by the four sides' steps together,
    # each side free to sit a pixel or two off (the outer quad is found at a quarter of the size).
    scores = np.zeros(depth)
    for d in range(start, depth - gap):
        lo, hi = max(start, d - 2), min(depth - gap, d + 3)
        local = steps[:, lo:hi].max(axis=1)
        band_even = spread[:, start // 2 : d].mean()
        if band_even > max(EVEN_BAND, 0.6 * interior):
            continue  # the band is as busy as the painting: not a frame
        scores[d] = local.min() * 2 + local.mean()  # every side must show it
    if scores.max() <= 0:
        return None, 0.0
    strong = scores >= 0.6 * scores.max()
    best_depth = int(np.argmax(strong))  # the outermost strong step: a painted border stays in
    best_depth = int(np.argmax(scores[best_depth : best_depth + 4])) + best_depth
    best_score = float(steps[:, max(start, best_depth - 2) : best_depth + 3].max(axis=1).mean())
    if best_score < MIN_STEP:
        return None, best_score
    offsets = []
    for s in range(4):
        lo, hi = max(start, best_depth - 2), min(depth - gap, best_depth + 3)
        offsets.append(lo + int(np.argmax(steps[s, lo:hi])))
    top, bottom, left, right = offsets
    inner = np.float32([[left, top], [width - right, top], [width - right, height - bottom], [left, height - bottom]])
    back = cv2.perspectiveTransform(inner.reshape(-1, 1, 2), np.linalg.inv(warp)).reshape(4, 2)
    return back.astype(np.float64), best_score


def straighten(image: Image.Image, corners: np.ndarray, long_side: int = 768) -> Image.Image:
    """The quad `corners` of `image` warped to an upright rectangle of its own aspect, at most
    `long_side` pixels long (and never larger than the quad is in the image)."""
    corners = np.asarray(corners, np.float64).reshape(4, 2)
    natural = rectified_size(corners)
    size = rectified_size(corners, min(long_side, max(natural)))
    rgb = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    flat = cv2.warpPerspective(
        rgb, _homography(corners, size), size, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE
    )
    return Image.fromarray(flat)
