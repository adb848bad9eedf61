"""Draw the app icon: resources/icons/timbre-studio.png (256x256) and .ico (16 to 256).

The design: a rounded tile shaded from teal to indigo, holding white rounded bars whose
heights rise and fall like the level of a spoken phrase. Each size is drawn on its own
(seven bars from 48 px up, five at 32 px, three at 16 and 24 px) with the bars snapped
to whole pixels of that size, then drawn eight times larger and scaled down, so small
icons stay sharp instead of being a blurred copy of the big one.

Run from the checkout: ``python installer/make_icon.py`` (Pillow). The output is
committed; run it again only when the design changes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageDraw

ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
PNG_SIZE = 256
SUPERSAMPLE = 8
TOP_LEFT = (32, 186, 170)  # teal
BOTTOM_RIGHT = (67, 56, 202)  # indigo
BAR = (255, 255, 255, 255)
# relative bar heights (of the tile's inner height), symmetric like a voiced syllable
LEVELS = {3: (0.42, 0.80, 0.42), 5: (0.34, 0.62, 0.86, 0.62, 0.34),
          7: (0.26, 0.46, 0.70, 0.90, 0.70, 0.46, 0.26)}


def _bar_count(size: int) -> int:
    return 3 if size <= 24 else 5 if size <= 32 else 7


def _gradient(size: int) -> Image.Image:
    """A diagonal teal-to-indigo square of ``size`` pixels (RGBA)."""
    down = Image.linear_gradient("L")  # 256 x 256, dark at the top, light at the bottom
    mask = Image.blend(down, down.transpose(Image.Transpose.TRANSPOSE), 0.5)  # (x + y) / 2
    mask = mask.resize((size, size), Image.Resampling.BILINEAR)
    a = Image.new("RGBA", (size, size), TOP_LEFT + (255,))
    b = Image.new("RGBA", (size, size), BOTTOM_RIGHT + (255,))
    return Image.composite(b, a, mask)


def _bars(size: int) -> list[tuple[int, int, int, int]]:
    """The bars as (left, top, right, bottom) in pixels of a ``size`` icon."""
    count = _bar_count(size)
    levels = LEVELS[count]
    inner = size * 0.64  # the bars' box is the middle 64 % of the tile
    slot = inner / (2 * count - 1)  # bars and gaps share the width equally
    width = max(1, round(slot))
    gap = max(1, round(slot))
    total = count * width + (count - 1) * gap
    left0 = (size - total) // 2
    boxes = []
    for i, level in enumerate(levels):
        height = max(width, round(inner * level))
        top = (size - height) // 2
        left = left0 + i * (width + gap)
        boxes.append((left, top, left + width, top + height))
    return boxes


def draw_icon(size: int) -> Image.Image:
    """The icon at ``size`` x ``size`` pixels (RGBA, transparent outside the tile)."""
    big = size * SUPERSAMPLE
    margin = 0 if size <= 24 else round(size / 32) * SUPERSAMPLE
    radius = round(big * 0.22)
    tile = Image.new("L", (big, big), 0)
    ImageDraw.Draw(tile).rounded_rectangle((margin, margin, big - 1 - margin, big - 1 - margin),
                                           radius=radius, fill=255)
    canvas = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    canvas.paste(_gradient(big), (0, 0), tile)
    pen = ImageDraw.Draw(canvas)
    for left, top, right, bottom in _bars(size):
        box = (left * SUPERSAMPLE, top * SUPERSAMPLE,
               right * SUPERSAMPLE - 1, bottom * SUPERSAMPLE - 1)
        pen.rounded_rectangle(box, radius=(right - left) * SUPERSAMPLE // 2, fill=BAR)
    return canvas.resize((size, size), Image.Resampling.LANCZOS)


def write_icons(folder: str | Path) -> tuple[Path, Path]:
    """Write ``timbre-studio.png`` and ``timbre-studio.ico`` into ``folder``."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    png, ico = out / "timbre-studio.png", out / "timbre-studio.ico"
    draw_icon(PNG_SIZE).save(png, "PNG", optimize=True)
    frames = [draw_icon(size) for size in ICO_SIZES]
    # BMP frames (32-bit with alpha) for every size: the most widely read ICO form
    # (resource compilers, Inno Setup, old shells); PNG frames are Vista+ only
    frames[-1].save(ico, "ICO", sizes=[(s, s) for s in ICO_SIZES],
                    append_images=frames[:-1], bitmap_format="bmp")
    return png, ico


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(prog="python installer/make_icon.py",
                                     description="Draw Timbre Studio's icons.")
    parser.add_argument("--out", default=str(root / "resources" / "icons"),
                        help="the folder to write to (default: resources/icons)")
    ns = parser.parse_args(argv)
    for path in write_icons(ns.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
