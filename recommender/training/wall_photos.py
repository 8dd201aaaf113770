"""Synthetic museum photos: a real painting in a frame on a wall, seen by a phone, with its true corners.

Used by `bench/bench_painting_finder.py` and the tests of `recommender.painting_finder`. Each photo is
drawn from one seed, so a failing case can be drawn again alone.

What a photo holds (numbers are the ranges drawn from):
* a wall of a random colour (plaster whites to deep reds and greens) with blotchy low-frequency
  texture and fine grain;
* a frame 3–14 % of the painting's short side wide, gold, black, white, wood, silver or a random
  colour, lit from above (a bevel: light outer edge, a shadow where the canvas sits);
* the painting (a catalogue image stretched to an aspect of 0.65–1.5), covering 25–60 % of the photo,
  seen up to 20° from the side (yaw), 10° from below (pitch) and 3° of roll, through a phone-like
  pinhole camera (focal length about 0.8–1.1 × the long side);
* a light gradient across the photo (up to ±25 % end to end), a glare spot on one photo in three,
  a colour cast (±8 % per channel), sensor noise (σ 1.5–5 grey levels), 1600×1200 landscape or
  portrait, JPEG quality 75–92.

Kinds: `framed` (the above); `dark_border` (the canvas itself has a near-black painted border, which
belongs to the painting); `two_paintings` (a second framed painting beside the first, which is the
subject: larger and nearer the middle); `tight_crop` (the photo is all painting, no frame, slight
perspective: the true answer is the whole photo). Corners are clockwise from top-left, in photo
pixels; for `tight_crop` they are the photo's own corners.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

KINDS = ("framed", "dark_border", "two_paintings", "tight_crop")
WALL_COLOURS = [(238, 236, 230), (226, 220, 205), (200, 200, 196), (150, 160, 150), (120, 130, 125),
                (140, 40, 45), (60, 80, 110), (40, 70, 60), (180, 160, 130), (90, 90, 95)]  # fmt: skip
FRAME_COLOURS = [(185, 145, 70), (25, 22, 20), (240, 238, 232), (110, 70, 40), (175, 175, 180), (70, 45, 30)]


@dataclass(frozen=True)
class WallPhoto:
    jpeg: bytes
    corners: np.ndarray  # 4×2, the painting (inside its frame) in photo pixels, clockwise from top-left
    kind: str
    painting: Image.Image  # the painting as it was drawn (aspect included), to compare a straightened one

    def image(self) -> Image.Image:
        return Image.open(io.BytesIO(self.jpeg)).convert("RGB")


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


class _Camera:
    """Maps wall-plane points (u, v in painting heights, v down) to photo pixels."""

    def __init__(self, rng: np.random.Generator, size: tuple[int, int], tilt: bool = True) -> None:
        self.width, self.height = size
        self.focal = rng.uniform(0.8, 1.1) * max(size)
        yaw = rng.uniform(-20, 20) if tilt else rng.uniform(-4, 4)
        pitch = rng.uniform(-10, 2) if tilt else rng.uniform(-3, 3)  # photos are taken from below
        self.rotation = _rotation(yaw, pitch, rng.uniform(-3, 3))
        self.shift = np.zeros(2)
        self.distance = 3.0

    def project(self, points: np.ndarray) -> np.ndarray:
        plane = np.c_[points, np.zeros(len(points))] @ self.rotation.T + [0, 0, self.distance]
        pixels = self.focal * plane[:, :2] / plane[:, 2:3]
        return pixels + np.array([self.width / 2, self.height / 2]) + self.shift

    def homography(self, plane_rect: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
        """The warp from an image of `image_size` covering `plane_rect` (4 plane corners) to the photo."""
        w, h = image_size
        source = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        return cv2.getPerspectiveTransform(source, self.project(plane_rect).astype(np.float32))


def _rect(cx: float, cy: float, w: float, h: float) -> np.ndarray:
    x0, x1, y0, y1 = cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def _wall(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    width, height = size
    colour = np.array(WALL_COLOURS[rng.integers(len(WALL_COLOURS))], np.float32) + rng.normal(0, 8, 3)
    blotches = cv2.resize(rng.normal(0, 1, (12, 16)).astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    grain = cv2.GaussianBlur(rng.normal(0, 1, (height, width)).astype(np.float32), (0, 0), 1.2)
    shade = 1 + rng.uniform(0.01, 0.04) * blotches + rng.uniform(0.005, 0.02) * grain
    return colour[None, None, :] * shade[:, :, None]


def _framed_painting(rng: np.random.Generator, painting: Image.Image, px_height: int, frame_share: float):
    """The painting in its frame as one image; returns (image, frame width in pixels)."""
    art = np.asarray(painting, np.float32)
    h, w = art.shape[:2]
    band = max(3, round(frame_share * min(h, w)))
    colour = np.array(FRAME_COLOURS[rng.integers(len(FRAME_COLOURS))], np.float32) + rng.normal(0, 10, 3)
    if rng.random() < 0.2:
        colour = rng.uniform(20, 235, 3).astype(np.float32)
    out = np.empty((h + 2 * band, w + 2 * band, 3), np.float32)
    out[:] = colour
    # Bevel: each band gets lighter toward its outer edge, the top one lit, the bottom one in shade.
    ramp = np.linspace(1.15, 0.8, band, dtype=np.float32)[:, None, None]
    out[:band] *= ramp * 1.05
    out[-band:] *= ramp[::-1] * 0.85
    out[:, :band] *= ramp.transpose(1, 0, 2)
    out[:, -band:] *= ramp.transpose(1, 0, 2)[:, ::-1]
    out[band : band + h, band : band + w] = art
    shadow = max(1, band // 6)  # the canvas sits below the frame's lip: a thin shadow on its top and left
    out[band : band + shadow, band : band + w] *= 0.6
    out[band : band + h, band : band + shadow] *= 0.7
    return np.clip(out, 0, 255), band


def _paste(photo: np.ndarray, image: np.ndarray, warp: np.ndarray) -> None:
    size = (photo.shape[1], photo.shape[0])
    warped = cv2.warpPerspective(image, warp, size, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones(image.shape[:2], np.float32), warp, size, flags=cv2.INTER_LINEAR)
    photo *= 1 - mask[:, :, None]
    photo += warped * mask[:, :, None]


def _light_and_camera(
    rng: np.random.Generator, photo: np.ndarray, glare_at: np.ndarray | None, fall_off: bool = True
) -> np.ndarray:
    height, width = photo.shape[:2]
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    across = ((x - width / 2) * np.cos(angle) + (y - height / 2) * np.sin(angle)) / max(width, height)
    strength = rng.uniform(-0.5, 0.5)  # drawn either way, so a photo without fall-off is otherwise the same
    if fall_off:
        photo *= (1 + strength * across)[:, :, None]
    if glare_at is not None:
        sigma = rng.uniform(0.02, 0.06) * max(width, height)
        spot = np.exp(-((x - glare_at[0]) ** 2 + (y - glare_at[1]) ** 2) / (2 * sigma**2))
        photo += rng.uniform(80, 160) * spot[:, :, None]
    photo *= rng.uniform(0.92, 1.08, 3)[None, None, :]  # white balance off
    photo += rng.normal(0, rng.uniform(1.5, 5), photo.shape).astype(np.float32)
    return np.clip(photo, 0, 255).astype(np.uint8)


def _encode(rng: np.random.Generator, photo: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(photo).save(out, format="JPEG", quality=int(rng.integers(75, 93)))
    return out.getvalue()


def wall_photo(
    painting: Image.Image, seed: int, kind: str = "framed", second: Image.Image | None = None, fall_off: bool = True
) -> WallPhoto:
    """One photo of `painting` of the given kind (`second`: the other painting of `two_paintings`);
    `fall_off=False` draws the same photo without the light gradient (what evening it out could gain)."""
    rng = np.random.default_rng(seed)
    size = (1600, 1200) if rng.random() < 0.7 else (1200, 1600)
    aspect = rng.uniform(0.65, 1.5)
    art_h = 900
    art = painting.convert("RGB").resize((round(art_h * aspect), art_h), Image.Resampling.BICUBIC)
    if kind == "dark_border":
        pixels = np.asarray(art).copy()
        edge = round(rng.uniform(0.04, 0.1) * art_h)
        dark = rng.uniform(5, 35, 3)
        pixels[:edge], pixels[-edge:], pixels[:, :edge], pixels[:, -edge:] = dark, dark, dark, dark
        art = Image.fromarray(pixels)
    camera = _Camera(rng, size, tilt=kind != "tight_crop")
    if kind == "tight_crop":
        return _tight_crop(rng, camera, art, size)
    frame_share = rng.uniform(0.03, 0.14)
    framed, _band = _framed_painting(rng, art, art_h, frame_share)
    fw, fh = framed.shape[1] / art_h, framed.shape[0] / art_h  # in painting heights
    target = rng.uniform(0.25, 0.6) if kind != "two_paintings" else rng.uniform(0.25, 0.4)
    painting_rect = _rect(0, 0, aspect, 1.0)
    for _ in range(3):  # move the camera until the painting covers the share drawn (area ∝ 1 / distance²)
        area = cv2.contourArea(camera.project(painting_rect).astype(np.float32))
        camera.distance *= np.sqrt(area / (target * size[0] * size[1]))
    frame_rect = _rect(0, 0, fw, fh)
    outline = camera.project(frame_rect)
    for _ in range(20):  # a wide frame seen from the side may not fit: step back until it does
        if outline.min() >= 20 and (outline <= np.array(size) - 20).all():
            break
        camera.distance *= 1.05
        outline = camera.project(frame_rect)
    # Move the painting off-centre as far as the frame stays in the photo.
    room = np.maximum(0, np.minimum(outline.min(axis=0), np.array(size) - outline.max(axis=0)) - 20)
    camera.shift = rng.uniform(-1, 1, 2) * room * 0.8
    photo = _wall(rng, size)
    if kind == "two_paintings" and second is not None:
        side = rng.choice([-1, 1])
        second_h = rng.uniform(0.5, 0.9)
        other, _ = _framed_painting(rng, second.convert("RGB").resize((600, round(600 * second_h))), 600, 0.06)
        ow, oh = other.shape[1] / 600 * 1.0, other.shape[0] / 600 * 1.0
        cx = side * (fw / 2 + rng.uniform(0.2, 0.5) + ow / 2)
        _paste(photo, other, camera.homography(_rect(cx, rng.uniform(-0.2, 0.2), ow, oh), other.shape[1::-1]))
    _paste(photo, framed, camera.homography(frame_rect, framed.shape[1::-1]))
    corners = camera.project(painting_rect)
    glare = corners.mean(axis=0) + rng.uniform(-0.3, 0.3, 2) * np.ptp(corners, axis=0) if rng.random() < 1 / 3 else None
    photo = _light_and_camera(rng, photo, glare, fall_off)
    return WallPhoto(_encode(rng, photo), corners, kind, art)


def _tight_crop(rng: np.random.Generator, camera: _Camera, art: Image.Image, size: tuple[int, int]) -> WallPhoto:
    """All painting, edges outside the photo: the answer is the whole photo."""
    aspect = art.width / art.height
    rect = _rect(0, 0, aspect, 1.0)
    camera.distance = 1.0
    for _ in range(20):  # move closer until the painting covers the photo with a margin
        quad = camera.project(rect * 0.92).astype(np.float32)
        width, height = size
        inside = [cv2.pointPolygonTest(quad.reshape(-1, 1, 2), (float(x), float(y)), False) > 0
                  for x, y in [(0, 0), (width, 0), (width, height), (0, height)]]  # fmt: skip
        if all(inside):
            break
        camera.distance *= 0.85
    photo = np.zeros((size[1], size[0], 3), np.float32)
    pixels = np.asarray(art, np.float32)
    _paste(photo, pixels, camera.homography(rect, (art.width, art.height)))
    photo = _light_and_camera(rng, photo, None)
    corners = np.array([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]], np.float64)
    return WallPhoto(_encode(rng, photo), corners, "tight_crop", art)
