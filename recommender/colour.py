"""Colour arithmetic in pure Python: sRGB ↔ CIELAB (D65), ΔE distance, and names a person understands.

Pure Python on purpose: the web process converts the colours a person picks for palette search and
must not import numpy-heavy code. recommender.palette (workers and commands) uses the same tables
vectorised with numpy, so a colour gets the same Lab values and the same name on both sides.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import NamedTuple

HEX_RE = re.compile(r"^#?([0-9a-fA-F]{6})$")

# D65 reference white (CIE 1931 2°), as used by sRGB.
WHITE_X, WHITE_Y, WHITE_Z = 0.95047, 1.0, 1.08883
# sRGB (linear) → XYZ, IEC 61966-2-1.
RGB_TO_XYZ = (
    (0.4124564, 0.3575761, 0.1804375),
    (0.2126729, 0.7151522, 0.0721750),
    (0.0193339, 0.1191920, 0.9503041),
)
XYZ_TO_RGB = (
    (3.2404542, -1.5371385, -0.4985314),
    (-0.9692660, 1.8760108, 0.0415560),
    (0.0556434, -0.2040259, 1.0572252),
)

# Names for painters' colours rather than a web palette: earth pigments and the hues paintings are
# made of. Each is a representative sRGB value; a colour takes the name of the nearest one in Lab.
COLOUR_NAMES: tuple[tuple[str, str], ...] = (
    ("black", "#16150f"),
    ("charcoal", "#3a3a38"),
    ("dark grey", "#5e5e5c"),
    ("grey", "#8c8c88"),
    ("silver grey", "#b8b8b2"),
    ("off-white", "#ece8dc"),
    ("white", "#fafafa"),
    ("cream", "#efe2bd"),
    ("beige", "#d6c19b"),
    ("sand", "#c8ad7f"),
    ("ochre", "#c48f2c"),
    ("golden yellow", "#e0b02c"),
    ("lemon yellow", "#f1e04a"),
    ("pale yellow", "#f3eca0"),
    ("olive", "#77742f"),
    ("dark olive", "#464526"),
    ("sage green", "#9aa584"),
    ("moss green", "#5f6f3a"),
    ("grass green", "#5c9a3c"),
    ("emerald green", "#2e8b57"),
    ("dark green", "#243d26"),
    ("teal", "#2f7a78"),
    ("turquoise", "#4cb8b0"),
    ("pale blue", "#b9d3e3"),
    ("sky blue", "#7fb1d9"),
    ("cerulean blue", "#2f7fb8"),
    ("ultramarine", "#2a3fa0"),
    ("navy blue", "#1c2a4f"),
    ("slate blue", "#5c6d8a"),
    ("grey blue", "#8596a6"),
    ("violet", "#6f4a9a"),
    ("lavender", "#b3a4cf"),
    ("plum", "#5e2f4f"),
    ("pink", "#e4a5b3"),
    ("rose", "#c46a7e"),
    ("crimson", "#a3162f"),
    ("vermilion", "#d8412b"),
    ("red", "#c0262a"),
    ("dark red", "#6b1a17"),
    ("burnt orange", "#c4622d"),
    ("orange", "#e8892b"),
    ("peach", "#eeb89a"),
    ("salmon", "#dd8571"),
    ("terracotta", "#b35a3c"),
    ("rust", "#8e3b1f"),
    ("brown", "#6e4a2e"),
    ("dark brown", "#3b2618"),
    ("sienna", "#8f5a33"),
    ("umber", "#5a4632"),
    ("khaki", "#a39a6c"),
    ("flesh tone", "#e0b79a"),
)


class Lab(NamedTuple):
    l: float  # noqa: E741 - L*, the CIE name
    a: float
    b: float


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    """'#c48f2c' or 'c48f2c' → (196, 143, 44); ValueError with a readable message otherwise."""
    match = HEX_RE.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a colour like #c48f2c")
    digits = match.group(1)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def rgb_to_hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def _linear(channel: float) -> float:
    c = channel / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _f(t: float) -> float:
    return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29


def rgb_to_lab(rgb: tuple[float, float, float]) -> Lab:
    r, g, b = (_linear(c) for c in rgb)
    x, y, z = (row[0] * r + row[1] * g + row[2] * b for row in RGB_TO_XYZ)
    fx, fy, fz = _f(x / WHITE_X), _f(y / WHITE_Y), _f(z / WHITE_Z)
    return Lab(116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))


def lab_to_rgb(lab: Lab) -> tuple[float, float, float]:
    fy = (lab.l + 16) / 116
    fx, fz = fy + lab.a / 500, fy - lab.b / 200

    def inv(t: float) -> float:
        return t**3 if t > 6 / 29 else 3 * (6 / 29) ** 2 * (t - 4 / 29)

    x, y, z = WHITE_X * inv(fx), WHITE_Y * inv(fy), WHITE_Z * inv(fz)
    linear = [row[0] * x + row[1] * y + row[2] * z for row in XYZ_TO_RGB]

    def encode(c: float) -> float:
        c = max(0.0, min(1.0, c))
        return 255 * (12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055)

    return encode(linear[0]), encode(linear[1]), encode(linear[2])


def hex_to_lab(value: str) -> Lab:
    return rgb_to_lab(hex_to_rgb(value))


def delta_e(x: Lab, y: Lab) -> float:
    """CIE76 ΔE: Euclidean distance in Lab; about 2.3 is a just-noticeable difference."""
    return math.dist(x, y)


@lru_cache(maxsize=1)
def named_labs() -> tuple[tuple[str, Lab], ...]:
    return tuple((name, hex_to_lab(value)) for name, value in COLOUR_NAMES)


def colour_name(lab: Lab) -> str:
    """The nearest name of COLOUR_NAMES in Lab."""
    return min(named_labs(), key=lambda pair: delta_e(lab, pair[1]))[0]


# --- A coarse grid over Lab, so palette search reads only the colours near the picked ones ----------

CELL_SIZE = 10.0  # ΔE units per cell side
_AB_OFFSET, _AB_CELLS, _L_CELLS = 128.0, 26, 11


def lab_cell(lab: Lab) -> int:
    """The grid cell holding a Lab colour (an int, stored and indexed beside each palette colour)."""
    li = min(_L_CELLS - 1, max(0, int(lab.l // CELL_SIZE)))
    ai = min(_AB_CELLS - 1, max(0, int((lab.a + _AB_OFFSET) // CELL_SIZE)))
    bi = min(_AB_CELLS - 1, max(0, int((lab.b + _AB_OFFSET) // CELL_SIZE)))
    return (li * _AB_CELLS + ai) * _AB_CELLS + bi


def cells_within(lab: Lab, radius: float) -> list[int]:
    """Every grid cell that holds some colour within `radius` (ΔE) of `lab`: a superset, never a miss."""

    def span(value: float, offset: float, count: int) -> range:
        low = int((value + offset - radius) // CELL_SIZE)
        high = int((value + offset + radius) // CELL_SIZE)
        return range(max(0, low), min(count - 1, high) + 1)

    def gap(value: float, offset: float, index: int, count: int) -> float:
        # Distance from the value to the cell along one axis; the edge cells reach to infinity.
        low = -math.inf if index == 0 else index * CELL_SIZE - offset
        high = math.inf if index == count - 1 else (index + 1) * CELL_SIZE - offset
        return max(low - value, 0.0, value - high)

    cells = []
    for li in span(lab.l, 0.0, _L_CELLS):
        dl = gap(lab.l, 0.0, li, _L_CELLS)
        for ai in span(lab.a, _AB_OFFSET, _AB_CELLS):
            da = gap(lab.a, _AB_OFFSET, ai, _AB_CELLS)
            for bi in span(lab.b, _AB_OFFSET, _AB_CELLS):
                db = gap(lab.b, _AB_OFFSET, bi, _AB_CELLS)
                if dl * dl + da * da + db * db <= radius * radius:
                    cells.append((li * _AB_CELLS + ai) * _AB_CELLS + bi)
    return cells
