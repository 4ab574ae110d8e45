"""Views, the social cards: the image a page shows where it is shared (``og:image``).

Owns the cards' file names under ``templates/static/og/``, their size and the words each card
shows: one card for the site, and one per verdict and certainty (per verdict and
documentation for a factual claim), which every claim page with that rating shares. A card's
alt text is made from the same lines as its picture, so the two cannot say different
things. The pictures are drawn once from these lines by ``scripts/make_cards.py`` and
committed: a build draws nothing, needs no imaging library or font, and publishes the same
bytes every time. It must not draw, nor do any I/O.
"""

from __future__ import annotations

from ldn_site import vocabulary as v
from ldn_site.model import Config

CARD_DIR = "og"           # below the site's root, from templates/static/og/
CARD_WIDTH, CARD_HEIGHT = 1200, 630  # the size Open Graph consumers crop least
SITE_CARD = "site.png"
CLAIM_PREFIX = "claim-"   # claim-<verdict>-<certainty or documentation>.png
NOT_ADVICE = "Not medical advice"

# A line of a card: how it is drawn (its style), what it shows and what its alt text says of
# it (the same words, less the symbols a screen reader would spell out).
Line = tuple[str, str, str]


def site_card(config: Config) -> dict:
    """The site's own card: its title and description, from ``site.yaml`` (so a site with
    another title needs its card drawn again: ``scripts/make_cards.py --root``)."""
    return _card(SITE_CARD, "", [("title", config.title, config.title),
                                 ("lead", config.description, config.description),
                                 ("foot", NOT_ADVICE, NOT_ADVICE)])


def claim_card_image(verdict: str, rating: str) -> dict:
    """The card of every claim with this verdict and this certainty (or, for a factual
    claim, this documentation). It names no site, so it is right for any site built with
    these templates; the site's name goes with it as the page's ``og:site_name``."""
    verdict_term = v.term(v.VERDICTS, verdict)
    if rating in v.CERTAINTY_LEVELS:
        shown = f"{v.CERTAINTY_SYMBOLS[rating]} {v.CERTAINTY_LABELS[rating]} certainty"
        spoken = f"{v.CERTAINTY_LABELS[rating].lower()} certainty"
    else:
        doc = v.term(v.DOCUMENTATION, rating)
        shown, spoken = f"{doc.symbol} {doc.label}", doc.label.lower()
    return _card(f"{CLAIM_PREFIX}{verdict}-{rating}.png", verdict, [
        ("label", "Claim reviewed", "Claim reviewed:"),
        ("verdict", f"{verdict_term.symbol} {verdict_term.label}", f"{verdict_term.label},"),
        ("rating", shown, f"{spoken}."),
        ("foot", NOT_ADVICE, NOT_ADVICE)])


def list_cards(config: Config) -> list[dict]:
    """Every card a site can show: the site's, then one per rating a claim can have."""
    cards = [site_card(config)]
    for verdict in v.values(v.VERDICTS):
        for level in v.CERTAINTY_LEVELS:
            cards.append(claim_card_image(verdict, level))
        cards.append(claim_card_image(verdict, v.DOCUMENTATION_BY_VERDICT[verdict]))
    return cards


def _card(name: str, tone: str, lines: list[Line]) -> dict:
    spoken = [" ".join(said.split()) for _, _, said in lines if said.strip()]
    # Sentences end with a full stop, unless the line itself ends with punctuation.
    alt = " ".join(s if s[-1] in ".:,!?" else f"{s}." for s in spoken)
    return {"file": f"{CARD_DIR}/{name}", "width": CARD_WIDTH, "height": CARD_HEIGHT,
            "tone": tone, "lines": lines, "alt": alt}
