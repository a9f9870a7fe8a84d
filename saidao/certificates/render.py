"""Drawing a certificate: one layout, two surfaces (a PNG for phones, a PDF for printing).

The layout is written once against a small ``Surface`` protocol in pixels of a 1080 x 1527
portrait page (A4's proportions, so the PNG and the PDF look the same); the PNG surface draws
with Pillow, the PDF surface with fpdf2, which embeds only the glyphs used (a subset), so a PDF
stays small although the CJK font is not.

Chinese needs a CJK font: Noto Serif CJK SC (Debian's ``fonts-noto-cjk``), found with fc-match
or at Debian's paths; without it rendering fails with ``FontMissing`` and says what to install.
"""

from __future__ import annotations

import functools
import io
import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import segno
from django.conf import settings
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from saidao.core import clock
from saidao.core.errors import SaidaoError

if TYPE_CHECKING:
    from PIL import ImageFont

    from .models import Certificate

RGB = tuple[int, int, int]

# fontTools reports every subsetting step at INFO; a certificate is not worth a page of log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

WIDTH = 1080
HEIGHT = 1527  # 1080 * sqrt(2): A4 portrait
MARGIN_X = 150  # text column inside the borders

IVORY: RGB = (255, 250, 238)
RED: RGB = (178, 24, 30)
DEEP_RED: RGB = (140, 16, 22)
GOLD: RGB = (196, 154, 60)
INK: RGB = (38, 30, 26)
MUTED: RGB = (110, 90, 70)
WHITE: RGB = (255, 255, 255)

# Layout landmarks that tests use to look at the drawing.
NAME_BASELINE = 480
NAME_SIZE = 92
QR_BOX = (140, 1150, 350, 1360)  # x0, y0, x1, y1


class FontMissing(SaidaoError):
    code = "font_missing"
    status = 503

    def __init__(self) -> None:
        super().__init__(_("服务器缺少中文字体，暂时无法生成证书。请安装 fonts-noto-cjk。"))


@dataclass(frozen=True)
class FontFace:
    path: str
    index: int


@dataclass(frozen=True)
class Fonts:
    regular: FontFace
    bold: FontFace


# Debian's fonts-noto-cjk: the collections hold JP, KR, SC, TC, HK faces; SC is the third.
_KNOWN = {
    "regular": [
        ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
        ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ],
    "bold": [
        ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc", 2),
        ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ],
}
_PATTERNS = {
    "regular": ["Noto Serif CJK SC:style=Regular", "Noto Sans CJK SC:style=Regular"],
    "bold": ["Noto Serif CJK SC:style=Bold", "Noto Sans CJK SC:style=Bold"],
}


def _fc_match(pattern: str) -> FontFace | None:
    fc = shutil.which("fc-match")
    if fc is None:
        return None
    try:
        out = subprocess.run(  # noqa: S603 (fixed program, our own pattern)
            [fc, "--format", "%{family}\t%{file}\t%{index}", pattern],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.split("\t")
    # fc-match always answers with something; only a CJK SC face will do.
    if len(parts) != 3 or "CJK SC" not in parts[0] or not Path(parts[1]).is_file():
        return None
    return FontFace(parts[1], int(parts[2] or 0))


def _find(weight: str) -> FontFace | None:
    for path, index in _KNOWN[weight]:
        if Path(path).is_file():
            return FontFace(path, index)
    for pattern in _PATTERNS[weight]:
        face = _fc_match(pattern)
        if face is not None:
            return face
    return None


@functools.cache
def find_fonts() -> Fonts:
    """The CJK faces to draw with, looked up once per process."""
    regular = _find("regular")
    bold = _find("bold") or regular
    if regular is None or bold is None:
        raise FontMissing()
    return Fonts(regular=regular, bold=bold)


class Surface(Protocol):
    def rect(
        self,
        box: tuple[float, float, float, float],
        *,
        fill: RGB | None = None,
        outline: RGB | None = None,
        width: float = 1,
    ) -> None: ...

    def polygon(self, points: list[tuple[float, float]], *, fill: RGB) -> None: ...

    def text(
        self, x: float, y: float, text: str, *, size: float, bold: bool, color: RGB
    ) -> None: ...

    def measure(self, text: str, *, size: float, bold: bool) -> float: ...


def verify_path(certificate: Certificate) -> str:
    return reverse("certificates:verify", args=[certificate.code])


def default_verify_url(certificate: Certificate) -> str:
    """The verify page's address when no request tells the host: the public address."""
    public: str = settings.SAIDAO_PUBLIC_URL or "http://localhost:8000"
    return public.rstrip("/") + verify_path(certificate)


def display_code(code: str) -> str:
    """``ABCD1234EFGH`` as ``ABCD-1234-EFGH``: easier to read out and to type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def mask_name(name: str) -> str:
    """The name as the public verify page shows it: the first character and one star
    (吴小利 -> 吴*), so neither the given name nor its length shows."""
    name = name.strip()
    return name[0] + "*" if name else ""


# Text layout -------------------------------------------------------------------------------

# Never at the start of a line (closing marks) or at its end (opening marks): the Chinese rule.
_NO_START = set("，。、；：？！」』”’）》〉】,.;:?!)%")
_NO_END = set("「『“‘（《〈【(")


def _tokens(text: str) -> list[str]:
    """Units that a line may break between: each CJK character, each Latin word, each space;
    punctuation sticks to its neighbour."""
    out: list[str] = []
    word = ""
    for ch in text:
        if ch.isascii() and not ch.isspace() and ch not in _NO_START and ch not in _NO_END:
            word += ch
            continue
        if word:
            out.append(word)
            word = ""
        out.append(ch)
    if word:
        out.append(word)
    merged: list[str] = []
    glue_next = False
    for tok in out:
        # A number keeps its unit: "2024年", "95分" never break in the middle.
        after_number = bool(merged) and merged[-1][-1].isdigit() and not tok.isascii()
        if merged and (glue_next or tok in _NO_START or after_number):
            merged[-1] += tok
        else:
            merged.append(tok)
        glue_next = tok in _NO_END
    return merged


def _greedy(
    surface: Surface, tokens: list[str], *, size: float, bold: bool, width: float
) -> list[str]:
    lines: list[str] = []
    line = ""
    for token in tokens:
        candidate = line + token
        if not line.strip() or surface.measure(candidate, size=size, bold=bold) <= width:
            line = candidate
            continue
        lines.append(line.strip())
        line = token
    if line.strip():
        lines.append(line.strip())
    out: list[str] = []
    for item in lines:  # a single token wider than the line is cut by characters
        while len(item) > 1 and surface.measure(item, size=size, bold=bold) > width:
            cut = len(item) - 1
            while cut > 1 and surface.measure(item[:cut], size=size, bold=bold) > width:
                cut -= 1
            out.append(item[:cut])
            item = item[cut:]
        out.append(item)
    return out


def _wrap(surface: Surface, text: str, *, size: float, bold: bool, width: float) -> list[str]:
    """Lines no wider than ``width``, as even as possible (no lonely last character).

    Text with spaces breaks at the spaces when every phrase fits; otherwise between any two
    CJK characters or Latin words.
    """
    text = " ".join(text.split())
    if not text:
        return [""]
    phrases = text.split(" ")
    if len(phrases) > 1 and all(surface.measure(p, size=size, bold=bold) <= width for p in phrases):
        tokens = [p + " " for p in phrases[:-1]] + [phrases[-1]]
    else:
        tokens = _tokens(text)
    lines = _greedy(surface, tokens, size=size, bold=bold, width=width)
    if len(lines) < 2:
        return lines
    # The narrowest width that still needs no more lines gives the most even break.
    lo, hi = width / len(lines), width
    best = lines
    for _step in range(8):
        mid = (lo + hi) / 2
        trial = _greedy(surface, tokens, size=size, bold=bold, width=mid)
        if len(trial) <= len(lines):
            best, hi = trial, mid
        else:
            lo = mid
    return best


@dataclass
class _Line:
    text: str
    size: float
    bold: bool
    color: RGB
    before: float  # space above the baseline, from the previous line's baseline


def _fit(
    surface: Surface, text: str, *, size: float, bold: bool, width: float, max_lines: int
) -> tuple[list[str], float]:
    """Wrapped lines and the size that keeps them within ``max_lines``, shrinking if needed."""
    while True:
        lines = _wrap(surface, text, size=size, bold=bold, width=width)
        if len(lines) <= max_lines or size <= 24:
            return lines[:max_lines], size
        size -= 4


def _centered(
    surface: Surface, y: float, text: str, *, size: float, bold: bool, color: RGB
) -> None:
    w = surface.measure(text, size=size, bold=bold)
    surface.text((WIDTH - w) / 2, y, text, size=size, bold=bold, color=color)


def _spaced(surface: Surface, y: float, text: str, *, size: float, color: RGB, gap: float) -> None:
    """A heading drawn a character at a time with ``gap`` between them, centered."""
    widths = [surface.measure(ch, size=size, bold=True) for ch in text]
    x = (WIDTH - (sum(widths) + gap * (len(text) - 1))) / 2
    for ch, w in zip(text, widths, strict=True):
        surface.text(x, y, ch, size=size, bold=True, color=color)
        x += w + gap


def _diamond(surface: Surface, cx: float, cy: float, r: float, color: RGB) -> None:
    surface.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=color)


def _rule(surface: Surface, y: float, half: float) -> None:
    """A gold rule with a diamond in its middle."""
    cx = WIDTH / 2
    surface.rect((cx - half, y - 1, cx - 22, y + 1), fill=GOLD)
    surface.rect((cx + 22, y - 1, cx + half, y + 1), fill=GOLD)
    _diamond(surface, cx, y, 9, GOLD)


def _frame(surface: Surface) -> None:
    surface.rect((0, 0, WIDTH, HEIGHT), fill=IVORY)
    surface.rect((22, 22, WIDTH - 22, HEIGHT - 22), outline=RED, width=26)
    surface.rect((52, 52, WIDTH - 52, HEIGHT - 52), outline=GOLD, width=4)
    surface.rect((64, 64, WIDTH - 64, HEIGHT - 64), outline=GOLD, width=1.5)
    for cx, cy in ((64, 64), (WIDTH - 64, 64), (64, HEIGHT - 64), (WIDTH - 64, HEIGHT - 64)):
        _diamond(surface, cx, cy, 22, GOLD)
        _diamond(surface, cx, cy, 11, RED)


def _qr(surface: Surface, url: str, box: tuple[int, int, int, int]) -> None:
    qr = segno.make(url, error="m", micro=False)
    rows = [list(row) for row in qr.matrix]
    n = len(rows)
    quiet = 2  # modules of white around the symbol, inside the box
    x0, y0, x1, _y1 = box
    cell = (x1 - x0) / (n + 2 * quiet)
    surface.rect(box, fill=WHITE)
    for r, row in enumerate(rows):
        c = 0
        while c < n:  # one rectangle per run of dark modules keeps the PDF small
            if not row[c]:
                c += 1
                continue
            start = c
            while c < n and row[c]:
                c += 1
            surface.rect(
                (
                    x0 + (quiet + start) * cell,
                    y0 + (quiet + r) * cell,
                    x0 + (quiet + c) * cell,
                    y0 + (quiet + r + 1) * cell,
                ),
                fill=INK,
            )


BODY_TOP = NAME_BASELINE + 50  # below the name's rule
BODY_BOTTOM = QR_BOX[1] - 40


def _body(surface: Surface, certificate: Certificate, scale: float) -> list[_Line]:
    """The lines between the name and the foot, at ``scale`` of their natural size."""
    from .models import Certificate

    column = WIDTH - 2 * MARGIN_X
    if certificate.kind == Certificate.Kind.TITLE:
        lead = _("在「%(event)s」中") % {"event": certificate.event_name}
        award = _("荣获")
        closing = _("特发此证，以资鼓励。")
    else:
        lead = _("参加「%(event)s」") % {"event": certificate.event_name}
        award = _("获得")
        closing = _("特发此证。")
    out: list[_Line] = []
    lines, size = _fit(surface, lead, size=40 * scale, bold=False, width=column, max_lines=3)
    for i, line in enumerate(lines):
        out.append(_Line(line, size, False, INK, size * (1.6 if i else 1.0)))
    out.append(_Line(award, 34 * scale, False, MUTED, 70 * scale))
    lines, size = _fit(
        surface, certificate.title, size=64 * scale, bold=True, width=column, max_lines=2
    )
    for i, line in enumerate(lines):
        out.append(_Line(line, size, True, RED, size * (1.35 if i else 1.45)))
    pairs = certificate.detail_pairs[:5]
    half = column / 2 - 24
    for i, (label, value) in enumerate(pairs):
        label_text = _fit(surface, label, size=34 * scale, bold=False, width=half, max_lines=1)
        value_text = _fit(surface, value, size=36 * scale, bold=False, width=half, max_lines=1)
        # A details row is drawn as two texts; "\t" marks where the label ends.
        row = label_text[0][0] + "\t" + value_text[0][0]
        out.append(_Line(row, value_text[1], False, INK, (96 if i == 0 else 56) * scale))
    out.append(_Line(closing, 40 * scale, False, INK, (100 if pairs else 90) * scale))
    return out


def draw(surface: Surface, certificate: Certificate, *, verify_url: str) -> None:
    """The whole certificate onto ``surface``."""
    from .models import Certificate

    _frame(surface)
    _rule(surface, 150, 120)
    if certificate.kind == Certificate.Kind.TITLE:
        heading = pgettext("certificate heading", "荣誉证书")
    else:
        heading = pgettext("certificate heading", "证书")
    if all(not ch.isascii() for ch in heading):
        _spaced(surface, 300, heading, size=118, color=RED, gap=36 if len(heading) > 2 else 110)
    else:
        lines, size = _fit(
            surface, heading.upper(), size=84, bold=True, width=WIDTH - 260, max_lines=1
        )
        _centered(surface, 290, lines[0], size=size, bold=True, color=RED)
    _rule(surface, 353, 300)

    column = WIDTH - 2 * MARGIN_X
    name_lines, name_size = _fit(
        surface, certificate.holder_name, size=NAME_SIZE, bold=True, width=column, max_lines=1
    )
    _centered(surface, NAME_BASELINE, name_lines[0], size=name_size, bold=True, color=INK)
    name_w = surface.measure(name_lines[0], size=name_size, bold=True)
    half = max(name_w / 2 + 40, 180)
    surface.rect(
        (WIDTH / 2 - half, NAME_BASELINE + 26, WIDTH / 2 + half, NAME_BASELINE + 28.5), fill=GOLD
    )

    # The body shrinks until it fits above the foot, then sits in the middle of its room.
    scale = 1.0
    body = _body(surface, certificate, scale)
    while sum(line.before for line in body) > BODY_BOTTOM - BODY_TOP - 40 and scale > 0.6:
        scale -= 0.05
        body = _body(surface, certificate, scale)
    height = sum(line.before for line in body)
    y = BODY_TOP + max((BODY_BOTTOM - BODY_TOP - height) / 2, 20)
    for line in body:
        y += line.before
        if "\t" in line.text:
            label, value = line.text.split("\t", 1)
            lsize = line.size * 34 / 36
            w = surface.measure(label, size=lsize, bold=False)
            surface.text(WIDTH / 2 - 18 - w, y, label, size=lsize, bold=False, color=MUTED)
            surface.text(WIDTH / 2 + 18, y, value, size=line.size, bold=False, color=INK)
        else:
            _centered(surface, y, line.text, size=line.size, bold=line.bold, color=line.color)

    # The foot: the QR and the code on the left; the issuer and the date on the right.
    _qr(surface, verify_url, QR_BOX)
    qx0, _qy0, qx1, qy1 = QR_BOX
    for i, text in enumerate(
        [_("扫码验证"), _("验证码 %(code)s") % {"code": display_code(certificate.code)}]
    ):
        w = surface.measure(text, size=24, bold=False)
        surface.text((qx0 + qx1 - w) / 2, qy1 + 40 + i * 36, text, size=24, bold=False, color=MUTED)
    issuer_lines, isize = _fit(
        surface, certificate.issuer.name, size=40, bold=True, width=500, max_lines=2
    )
    date = formats.date_format(certificate.issued_on, "DATE_FORMAT")
    foot_center = (qx1 + WIDTH - 64) / 2 + 20
    iy = QR_BOX[1] + 120 - (len(issuer_lines) - 1) * isize * 1.3
    for issuer_line in issuer_lines:
        w = surface.measure(issuer_line, size=isize, bold=True)
        surface.text(foot_center - w / 2, iy, issuer_line, size=isize, bold=True, color=INK)
        iy += isize * 1.3
    w = surface.measure(date, size=36, bold=False)
    surface.text(foot_center - w / 2, iy + 20, date, size=36, bold=False, color=INK)

    if certificate.revoked_at is not None:
        # Revoked certificates still render (the holder may look), but never look valid.
        surface.rect((64, 640, WIDTH - 64, 800), fill=DEEP_RED)
        when = formats.date_format(
            certificate.revoked_at.astimezone(clock.SHANGHAI).date(), "DATE_FORMAT"
        )
        _centered(surface, 712, _("本证书已撤销"), size=56, bold=True, color=WHITE)
        _centered(
            surface, 770, _("撤销日期：%(date)s") % {"date": when}, size=30, bold=False, color=WHITE
        )


# The PNG surface -------------------------------------------------------------------------


class _PngSurface:
    def __init__(self, fonts: Fonts) -> None:
        from PIL import Image, ImageDraw

        self.fonts = fonts
        self.image = Image.new("RGB", (WIDTH, HEIGHT), IVORY)
        self.draw = ImageDraw.Draw(self.image)
        self._cache: dict[tuple[float, bool], ImageFont.FreeTypeFont] = {}

    def _font(self, size: float, bold: bool) -> ImageFont.FreeTypeFont:
        from PIL import ImageFont

        key = (size, bold)
        if key not in self._cache:
            face = self.fonts.bold if bold else self.fonts.regular
            self._cache[key] = ImageFont.truetype(face.path, size, index=face.index)
        return self._cache[key]

    def rect(
        self,
        box: tuple[float, float, float, float],
        *,
        fill: RGB | None = None,
        outline: RGB | None = None,
        width: float = 1,
    ) -> None:
        if fill is not None:
            self.draw.rectangle(box, fill=fill)
        if outline is not None:
            # Pillow draws the outline inside the box; center it on the box's edge as PDF does.
            h = width / 2
            x0, y0, x1, y1 = box
            self.draw.rectangle(
                (x0 - h, y0 - h, x1 + h, y1 + h), outline=outline, width=max(round(width), 1)
            )

    def polygon(self, points: list[tuple[float, float]], *, fill: RGB) -> None:
        self.draw.polygon(points, fill=fill)

    def text(self, x: float, y: float, text: str, *, size: float, bold: bool, color: RGB) -> None:
        self.draw.text((x, y), text, font=self._font(size, bold), fill=color, anchor="ls")

    def measure(self, text: str, *, size: float, bold: bool) -> float:
        return float(self._font(size, bold).getlength(text))


def certificate_png(certificate: Certificate, *, verify_url: str | None = None) -> bytes:
    """The certificate as a 1080 x 1527 PNG: saved by a long press in WeChat's browser."""
    surface = _PngSurface(find_fonts())
    draw(surface, certificate, verify_url=verify_url or default_verify_url(certificate))
    out = io.BytesIO()
    surface.image.save(out, format="PNG", optimize=True)
    return out.getvalue()


# The PDF surface -------------------------------------------------------------------------

PT_PER_PX = 595.28 / WIDTH  # A4 is 595.28 pt wide


class _PdfSurface:
    def __init__(self, fonts: Fonts) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(orientation="P", unit="pt", format="A4")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margin(0)
        self.pdf.add_font(
            "cjk", "", fname=fonts.regular.path, collection_font_number=fonts.regular.index
        )
        self.pdf.add_font(
            "cjk", "B", fname=fonts.bold.path, collection_font_number=fonts.bold.index
        )
        self.pdf.add_page()

    def _set_font(self, size: float, bold: bool) -> None:
        self.pdf.set_font("cjk", "B" if bold else "", size * PT_PER_PX)

    def rect(
        self,
        box: tuple[float, float, float, float],
        *,
        fill: RGB | None = None,
        outline: RGB | None = None,
        width: float = 1,
    ) -> None:
        k = PT_PER_PX
        x0, y0, x1, y1 = box
        if fill is not None:
            self.pdf.set_fill_color(*fill)
            self.pdf.rect(x0 * k, y0 * k, (x1 - x0) * k, (y1 - y0) * k, style="F")
        if outline is not None:
            self.pdf.set_draw_color(*outline)
            self.pdf.set_line_width(width * k)
            self.pdf.rect(x0 * k, y0 * k, (x1 - x0) * k, (y1 - y0) * k, style="D")

    def polygon(self, points: list[tuple[float, float]], *, fill: RGB) -> None:
        self.pdf.set_fill_color(*fill)
        self.pdf.polygon([(x * PT_PER_PX, y * PT_PER_PX) for x, y in points], style="F")

    def text(self, x: float, y: float, text: str, *, size: float, bold: bool, color: RGB) -> None:
        self._set_font(size, bold)
        self.pdf.set_text_color(*color)
        self.pdf.text(x * PT_PER_PX, y * PT_PER_PX, text)

    def measure(self, text: str, *, size: float, bold: bool) -> float:
        self._set_font(size, bold)
        return float(self.pdf.get_string_width(text)) / PT_PER_PX


def certificate_pdf(certificate: Certificate, *, verify_url: str | None = None) -> bytes:
    """The certificate as a one-page A4 PDF with the font's used glyphs embedded."""
    surface = _PdfSurface(find_fonts())
    pdf = surface.pdf
    pdf.set_title(f"{certificate.title} · {certificate.holder_name}")
    pdf.set_subject(certificate.event_name)
    # The code in the metadata too, so a search of the file finds it.
    pdf.set_keywords(certificate.code)
    pdf.set_creator("Saidao")
    pdf.set_lang("zh-CN")
    draw(surface, certificate, verify_url=verify_url or default_verify_url(certificate))
    return bytes(pdf.output())
