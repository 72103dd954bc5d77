"""The two icons a Teams app package needs, drawn with Pillow so the package is reproducible.

The mark is three linked circles, a small community: in colour (192x192, white on the accent
green) and as Teams' outline icon (32x32, white on a transparent background, nothing else).
Shapes are drawn at 8x and scaled down, so edges are smooth at either size.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

ACCENT = "#2E5E4E"
COLOR_SIZE = 192
OUTLINE_SIZE = 32
SUPERSAMPLE = 8


def _mark(size: int, *, scale: float) -> Image.Image:
    """The mark as an alpha mask of ``size`` pixels, filling ``scale`` of the square."""
    big = size * SUPERSAMPLE
    mask = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(mask)
    span = big * scale
    origin = (big - span) / 2
    radius = span * 0.17
    nodes = [
        (origin + span * 0.5, origin + span * 0.2),
        (origin + span * 0.2, origin + span * 0.78),
        (origin + span * 0.8, origin + span * 0.78),
    ]
    width = max(1, round(span * 0.07))
    for start, end in ((0, 1), (1, 2), (2, 0)):
        draw.line([nodes[start], nodes[end]], fill=255, width=width)
    for x, y in nodes:
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=255)
    return mask.resize((size, size), Image.Resampling.LANCZOS)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def color_icon() -> bytes:
    """192x192, full colour: the white mark on the accent colour, within Teams' safe area."""
    image = Image.new("RGBA", (COLOR_SIZE, COLOR_SIZE), ACCENT)
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    image.paste(white, (0, 0), _mark(COLOR_SIZE, scale=0.6))
    return _png(image)


def outline_icon() -> bytes:
    """32x32: every pixel white, shaped only by transparency, as Teams requires."""
    image = Image.new("RGBA", (OUTLINE_SIZE, OUTLINE_SIZE), (255, 255, 255, 0))
    image.putalpha(_mark(OUTLINE_SIZE, scale=0.9))
    return _png(image)
