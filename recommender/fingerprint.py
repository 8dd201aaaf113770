"""Perceptual hashes of paintings (pHash, 64 bits), for telling a copy of a catalogue work from a new image.

pHash keeps the low frequencies of a 32×32 greyscale DCT: re-encoding, resizing and mild blur
change few of its 64 bits, while a different painting differs in about half of them. It does not
survive crops well (every frequency shifts), which is why the duplicate rule (recommender.duplicates)
pairs it with the embedding distance. Pure Python apart from imagehash (numpy/scipy): workers and
commands only.
"""

from __future__ import annotations

from PIL import Image

HASH_BITS = 64


def phash_of_image(image: Image.Image) -> str:
    """The 64-bit pHash of an RGB image as 16 hex digits."""
    import imagehash

    return str(imagehash.phash(image))


def hamming(a: str, b: str) -> int:
    """Number of differing bits between two hex hashes (0 = identical, ~32 = unrelated)."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
