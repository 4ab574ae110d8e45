#!/usr/bin/env python3
"""Draw the social cards (``og:image``) into templates/static/og/, to be committed.

Draws every card ``ldn_site.views.cards`` lists: the site's card and one per verdict and
certainty (or documentation), each a 1200 x 630 PNG, from the lines that module gives, which
also make each card's alt text. The alt text is stored in the PNG as its iTXt
"Description", so a test can tell, without an imaging library, that a committed card still
shows what its page's ``og:image:alt`` says (run this script again when the site's title or
description, or a verdict's wording, changes).

    pip install -e '.[cards]'          # Pillow: this script's only extra dependency
    python scripts/make_cards.py       # rewrites templates/static/og/*.png

Run once, not at build time: a build only copies the committed files, so the site needs no
imaging library and stays byte-identical from build to build. The fonts are DejaVu Sans from
Debian's fonts-dejavu-core; the same Pillow and fonts give the same bytes, as the PNG holds
no date.
"""

from __future__ import annotations

import argparse
import os
import sys

from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from ldn_site import loading  # noqa: E402  (the repository's package, from this checkout)
from ldn_site.views.cards import list_cards  # noqa: E402

FONTS = "/usr/share/fonts/truetype/dejavu"
REGULAR, BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
# The light theme's colours (templates/static/style.css), so a card looks like the site.
BG, FG, MUTED, ACCENT = "#ffffff", "#1b1c1f", "#545861", "#0b57a4"
WARN_BG, WARN_LINE = "#fff7e0", "#9a6b00"
TONES = {"supported": "#1a6632", "mixed": "#7f5300", "unsupported": "#474f5c",
         "refuted": "#a11d27", "": ACCENT}
# style -> (font file, size in px, colour or None for the card's tone, space above in px)
STYLES = {"title": (BOLD, 64, FG, 0), "lead": (REGULAR, 38, MUTED, 36),
          "label": (REGULAR, 52, FG, 20),
          "verdict": (BOLD, 120, None, 14), "rating": (REGULAR, 54, FG, 24),
          "foot": (BOLD, 32, FG, 0)}
MARGIN, BAND, LEADING = 80, 24, 1.22


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    path = os.path.join(FONTS, name)
    if not os.path.isfile(path):
        sys.exit(f"{path} is missing: install Debian's fonts-dejavu-core")
    return ImageFont.truetype(path, size)


def wrap(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """The words of ``text`` in lines no wider than ``width`` pixels."""
    lines: list[str] = []
    for word in text.split():
        if lines and face.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def draw_card(card: dict) -> Image.Image:
    width, height = card["width"], card["height"]
    image = Image.new("RGB", (width, height), BG)
    draw = ImageDraw.Draw(image)
    tone = TONES[card["tone"]]
    draw.rectangle((0, 0, BAND - 1, height - 1), fill=tone)
    left, text_width = BAND + MARGIN, width - BAND - 2 * MARGIN
    y = MARGIN - 10
    body = [line for line in card["lines"] if line[0] != "foot"]
    for style, shown, _ in body:
        name, size, colour, space = STYLES[style]
        face = font(name, size)
        y += space
        for text in wrap(shown, face, text_width):
            draw.text((left, y), text, font=face, fill=colour or tone)
            y += round(size * LEADING)
    foot_size = STYLES["foot"][1]
    foot_top = height - MARGIN - foot_size - 24
    if y > foot_top:
        sys.exit(f"{card['file']}: the text does not fit on the card ({y} > {foot_top} px)")
    for style, shown, _ in card["lines"]:
        if style == "foot":  # the disclaimer's look: a pale box with a dark left border
            face = font(STYLES["foot"][0], foot_size)
            box = (left, foot_top, left + face.getlength(shown) + 40, height - MARGIN)
            draw.rectangle(box, fill=WARN_BG)
            draw.rectangle((box[0], box[1], box[0] + 5, box[3]), fill=WARN_LINE)
            draw.text((left + 22, foot_top + 12), shown, font=face, fill=FG)
    return image


def save_card(image: Image.Image, card: dict, folder: str) -> str:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("Description", card["alt"], lang="en")
    target = os.path.join(folder, os.path.basename(card["file"]))
    # A palette of 128 colours keeps every flat colour exact and the antialiased text smooth,
    # at two fifths of the size of full colour.
    image.quantize(colors=128, dither=Image.Dither.NONE).save(target, optimize=True,
                                                               pnginfo=info)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=ROOT, help="the repository (default: this one)")
    args = parser.parse_args()
    diags: list = []
    config = loading.load_config(args.root, diags)
    if config is None:
        sys.exit("\n".join(d.format() for d in diags) or "site.yaml could not be read")
    folder = os.path.join(args.root, "templates", "static", "og")
    os.makedirs(folder, exist_ok=True)
    for card in list_cards(config):
        target = save_card(draw_card(card), card, folder)
        print(f"{os.path.relpath(target, args.root)}  {os.path.getsize(target):>6} bytes  "
              f"{card['alt']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
