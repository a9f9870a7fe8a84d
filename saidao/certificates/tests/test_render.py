from __future__ import annotations

import io
import re
import subprocess
from typing import Any

import pytest
import segno
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from PIL import Image

from saidao.certificates import render
from saidao.certificates.models import Certificate
from saidao.certificates.tests.conftest import issue
from saidao.conftest import Tree

pytestmark = pytest.mark.django_db

URL = "https://saidao.example.cn/certificates/verify/ABC/"


def _png(cert: Certificate, url: str = URL) -> Image.Image:
    data = render.certificate_png(cert, verify_url=url)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGB")


def _ink(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    """How many pixels in ``box`` are dark (text), not the ivory paper."""
    gray = image.crop(box).convert("L")
    return sum(gray.histogram()[:120])


def test_png_is_portrait_1080_wide_and_the_name_is_drawn(tree: Tree, cert: Certificate) -> None:
    """The PNG is 1080 x 1527; the band where the name goes holds ink, and a different name
    draws different pixels there (the text really renders)."""
    image = _png(cert)
    assert image.size == (render.WIDTH, render.HEIGHT)
    band = (
        render.MARGIN_X,
        render.NAME_BASELINE - render.NAME_SIZE,
        render.WIDTH - render.MARGIN_X,
        render.NAME_BASELINE + 10,
    )
    assert _ink(image, band) > 2000
    other = _png(issue(holder=None, issuer=tree.anding, source="other", holder_name="韩永强"))
    assert image.crop(band).tobytes() != other.crop(band).tobytes()


def test_the_font_has_every_character_printed(cert: Certificate) -> None:
    """The CJK face found covers every character of the name, title, event and issuer, so no
    box (tofu) is drawn in their place."""
    face = render.find_fonts().regular
    font = TTFont(face.path, fontNumber=face.index, lazy=True)
    cmap = font.getBestCmap()
    text = cert.holder_name + cert.title + cert.event_name + cert.issuer.name + "荣誉证书特发此证"
    missing = {ch for ch in text if not ch.isspace() and ord(ch) not in cmap}
    assert missing == set()


def test_the_qr_code_drawn_is_the_verify_url(cert: Certificate) -> None:
    """Sampling the drawn QR module by module gives back exactly segno's symbol for the URL."""
    image = _png(cert).convert("L")
    matrix = [list(row) for row in segno.make(URL, error="m", micro=False).matrix]
    n = len(matrix)
    x0, y0, x1, _y1 = render.QR_BOX
    cell = (x1 - x0) / (n + 4)
    for r in range(n):
        for c in range(n):
            px = image.getpixel((int(x0 + (2 + c + 0.5) * cell), int(y0 + (2 + r + 0.5) * cell)))
            assert isinstance(px, int)
            assert (px < 128) == bool(matrix[r][c]), (r, c)


def test_pdf_embeds_a_font_subset_and_carries_the_code(cert: Certificate) -> None:
    """The PDF is a small one-page A4 file with the CJK font embedded as a subset and the
    verification code in it."""
    data = render.certificate_pdf(cert, verify_url=URL)
    assert data.startswith(b"%PDF-")
    assert len(data) < 200_000
    assert b"/FontFile3" in data  # the CFF outlines are embedded
    assert re.search(rb"/BaseFont /[A-Z]{6}\+NotoS[a-zA-Z]+CJKSC", data)  # a tagged subset
    assert cert.code.encode() in data
    assert data.count(b"/Type /Page\n") == 1


def test_pdf_text_extracts_in_chinese(cert: Certificate, tmp_path: Any) -> None:
    """The PDF's text layer reads back the Chinese and the code (poppler's pdftotext, which
    make test installs)."""
    path = tmp_path / "c.pdf"
    path.write_bytes(render.certificate_pdf(cert, verify_url=URL))
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "吴小利" in text
    assert "荣 誉 证 书" in text or "荣誉证书" in text.replace(" ", "")
    assert render.display_code(cert.code) in text


def test_a_revoked_certificate_says_so_on_the_image(tree: Tree, cert: Certificate) -> None:
    """Once revoked, the image carries the dark red band across its middle."""
    from saidao.certificates.services import certificate_revoke

    before = _png(cert)
    revoked = certificate_revoke(certificate=cert, actor=tree.city_officer, reason="作废")
    after = _png(revoked)
    assert before.getpixel((100, 720)) != render.DEEP_RED
    assert after.getpixel((100, 720)) == render.DEEP_RED


def test_long_texts_wrap_inside_the_column(tree: Tree) -> None:
    """A long event name wraps within the text column, and no line starts with a closing mark."""
    cert = issue(
        holder=None,
        issuer=tree.anding,
        source="long",
        event_name="胜利油田东营采油厂2024年“比学赶帮超”劳动竞赛暨第二季度降本增效、安全生产、"
        "技术革新综合评比活动",
        title="2024年第二季度 最佳降含水标兵",
    )
    surface = render._PngSurface(render.find_fonts())
    width = render.WIDTH - 2 * render.MARGIN_X
    lines = render._wrap(surface, cert.event_name, size=40, bold=False, width=width)
    assert len(lines) >= 2
    assert all(surface.measure(line, size=40, bold=False) <= width for line in lines)
    assert not any(line[0] in "，。、」”" for line in lines)
    assert render._wrap(surface, cert.title, size=64, bold=True, width=width) == [
        "2024年第二季度",
        "最佳降含水标兵",
    ]
    _png(cert)  # and the whole certificate still draws


def test_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, cert: Certificate) -> None:
    """Without a CJK font, rendering fails with FontMissing naming the package to install."""
    monkeypatch.setattr(render, "_KNOWN", {"regular": [], "bold": []})
    monkeypatch.setattr(render, "_fc_match", lambda pattern: None)
    render.find_fonts.cache_clear()
    try:
        with pytest.raises(render.FontMissing) as err:
            render.certificate_png(cert, verify_url=URL)
        assert "fonts-noto-cjk" in str(err.value.message)
    finally:
        render.find_fonts.cache_clear()


def test_masking_shows_only_the_first_character() -> None:
    """吴小利 -> 吴*, whatever the length; blank stays blank."""
    assert render.mask_name("吴小利") == "吴*"
    assert render.mask_name("欧阳明月") == "欧*"
    assert render.mask_name(" ") == ""
