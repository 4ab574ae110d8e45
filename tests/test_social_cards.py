"""The social cards (``og:image``): every page of a built site names one, with its size and alt
text, and the file is there in the site, a 1200 x 630 PNG that says what the alt text says.
A claim page names the card of its own verdict and certainty (documentation, for a factual
claim), as the open data gives them. The committed cards (templates/static/og/, drawn by
scripts/make_cards.py) are exactly the ones ``ldn_site.views.cards`` lists, each still
showing its current wording: the script stores each card's alt text in the PNG, which is read
here without an imaging library. Also: binary static files are published byte for byte.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest

from built_sites import NOT_VALID, REPO, SITES, build_site
from html_dom import parse_html
from ldn_site import caching, loading, pipeline
from ldn_site.views.cards import CARD_DIR, list_cards

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_png(data: bytes) -> tuple[int, int, dict[str, str]]:
    """A PNG's width, height and iTXt texts by keyword (the chunks as the PNG standard lays
    them out: length, type, data, CRC)."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    pos, size, texts = 8, None, {}
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        assert zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + length:
                                                                    pos + 12 + length])[0]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"iTXt":
            keyword, _, rest = body.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            _lang, _, rest = rest.partition(b"\0")
            _translated, _, text = rest.partition(b"\0")
            texts[keyword.decode("latin-1")] = (zlib.decompress(text) if compressed
                                                else text).decode("utf-8")
        pos += 12 + length
    assert size is not None, "no IHDR chunk"
    return size[0], size[1], texts


def test_the_committed_cards_are_the_listed_ones_and_say_their_alt_text():
    config = loading.load_config(str(REPO), [])
    cards = list_cards(config)
    folder = REPO / "templates" / "static" / CARD_DIR
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        Path(c["file"]).name for c in cards), "run scripts/make_cards.py"
    for card in cards:
        width, height, texts = read_png((folder / Path(card["file"]).name).read_bytes())
        assert (width, height) == (1200, 630) == (card["width"], card["height"]), card["file"]
        assert texts.get("Description") == card["alt"], (
            f"{card['file']} shows other words than its alt text: run scripts/make_cards.py")


def test_the_png_reader_can_tell_a_stale_card(tmp_path):
    """The check above can fail: a card drawn for another wording is told apart."""
    config = loading.load_config(str(REPO), [])
    site_card, claim_card = list_cards(config)[:2]
    data = (REPO / "templates" / "static" / claim_card["file"]).read_bytes()
    assert read_png(data)[2]["Description"] != site_card["alt"]
    with pytest.raises(AssertionError):
        read_png(data[:40] + bytes([data[40] ^ 1]) + data[41:])  # a damaged chunk (CRC)


def page_meta(html: str) -> dict[str, str]:
    doc = parse_html(html)
    return {m.attrs.get("property") or m.attrs.get("name"): m.attrs.get("content") or ""
            for m in doc.find_all("meta") if m.attrs.get("property") or m.attrs.get("name")}


@pytest.mark.parametrize("name", list(SITES))
def test_every_page_names_a_card_that_is_in_the_site(name, tmp_path):
    out = build_site(name, tmp_path)
    if out is None:
        pytest.skip(NOT_VALID)
    base_url = loading.load_config(str(SITES[name]), []).base_url
    claims = json.loads((out / "data" / "claims.json").read_text("utf-8"))["claims"]
    expected = {f"claims/{c['id']}.html":
                f"claim-{c['verdict']}-{c['certainty'] or c['documentation']}.png"
                for c in claims}
    pages = sorted(p for p in out.rglob("*.html") if "pagefind" not in p.parts)
    assert len(pages) > 10
    for page in pages:
        rel = page.relative_to(out).as_posix()
        meta = page_meta(page.read_text("utf-8"))
        url = meta.get("og:image", "")
        assert url.startswith(base_url + CARD_DIR + "/"), (rel, url)
        assert Path(url).name == expected.get(rel, "site.png"), rel
        assert meta["og:image:width"] == "1200" and meta["og:image:height"] == "630", rel
        assert meta["twitter:card"] == "summary_large_image", rel
        width, height, texts = read_png((out / url[len(base_url):]).read_bytes())
        assert (width, height) == (1200, 630), rel
        assert meta["og:image:alt"], rel
        # The sample sites borrow the repository's templates, whose site card shows the
        # repository's own title; a claim card names no site, so it is right for any.
        if name == "real" or Path(url).name != "site.png":
            assert texts["Description"] == meta["og:image:alt"], rel
    assert any(rel in expected for rel in (p.relative_to(out).as_posix() for p in pages))


def test_binary_static_files_are_published_byte_for_byte(make_site, tmp_path):
    site = make_site("minimal")
    data = PNG_SIGNATURE + bytes(range(256))  # not UTF-8, and every byte value
    (site / "templates" / "static" / "extra.png").write_bytes(data)
    result = pipeline.build_site(str(site), output=str(tmp_path / "out"), search=False)
    assert result.written, [d.format() for d in result.diagnostics]
    assert (tmp_path / "out" / "extra.png").read_bytes() == data


def test_a_static_text_file_that_is_not_utf8_is_still_an_error(make_site, tmp_path):
    site = make_site("minimal")
    (site / "templates" / "static" / "extra.css").write_bytes(b"a{}\n\xff\n")
    result = pipeline.build_site(str(site), output=str(tmp_path / "out"), search=False)
    assert not result.written
    assert [(d.path, d.line, d.code) for d in result.diagnostics] == [
        ("templates/static/extra.css", 2, "invalid-encoding")]


def test_a_changed_image_changes_the_code_stamp():
    """A build is reused only while its static files are the same, images included."""
    assert (caching.code_stamp({"static/og/a.png": b"\x89\x00"})
            != caching.code_stamp({"static/og/a.png": b"\x89\x01"}))
