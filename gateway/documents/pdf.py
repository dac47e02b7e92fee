"""The policy extract laid out as an A4 PDF (fpdf2), with the ЕНП as a vector QR code (segno).

The fonts are the DejaVu files shipped in gateway/data/fonts (their licence beside them): the PDF embeds a subset
of them, so the Cyrillic text reads the same on every machine and the gateway needs no system fonts. An extract of
a demonstration stack carries «ДЕМО» across the page and says under its title that it is no document.
"""

from __future__ import annotations

import logging
from pathlib import Path

import segno
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from fpdf.fonts import FontFace

from gateway.documents.extract import DEMO_MARK, DEMO_NOTE, SUBTITLE, TITLE, PolicyExtract, extract_lines, footer

FONTS = Path(__file__).resolve().parent.parent / "data" / "fonts"
FAMILY = "DejaVuSans"

MARGIN = 18.0  # mm
QR_MODULE = 1.5  # mm per module: a version 1 code is 21 modules, 31.5 mm, easy for a phone camera
QR_QUIET_ZONE = 4  # modules of white around the code, as ISO/IEC 18004 asks
RED = (180, 35, 24)
WATERMARK = (244, 212, 208)  # pale enough to read the data through, drawn before them

# fontTools narrates every table it subsets at INFO, some 75 lines a PDF: its warnings are enough.
logging.getLogger("fontTools").setLevel(logging.WARNING)


def render_policy_extract(extract: PolicyExtract) -> bytes:
    """The extract as the bytes of a one-page PDF."""
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    # Metadata names the document, never the person: file indexes and previews read it.
    pdf.set_title("Выписка о полисе ОМС")
    pdf.set_lang("ru")
    pdf.set_creator("epolicy-gateway")
    pdf.set_creation_date(extract.issued_at)
    pdf.add_page()
    if extract.demo:
        _draw_watermark(pdf)

    qr_size = _draw_qr(pdf, extract.policy.enp, pdf.w - MARGIN, MARGIN)
    text_width = pdf.w - 2 * MARGIN - qr_size - 4
    pdf.set_font(FAMILY, "B", 15)
    pdf.multi_cell(text_width, 7, TITLE, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 11)
    pdf.multi_cell(text_width, 6, SUBTITLE, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if extract.demo:
        pdf.ln(2)
        pdf.set_font(FAMILY, "B", 9.5)
        pdf.set_text_color(*RED)
        pdf.multi_cell(text_width, 5, DEMO_NOTE, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
    pdf.set_y(max(pdf.get_y(), MARGIN + qr_size) + 6)

    pdf.set_font(FAMILY, "", 10.5)
    with pdf.table(
        col_widths=(38, 62),
        first_row_as_headings=False,
        borders_layout="HORIZONTAL_LINES",
        line_height=6.5,
        padding=1.5,
        text_align="LEFT",
    ) as table:
        for index, (label, value) in enumerate(extract_lines(extract)):
            row = table.row()
            row.cell(label)
            # The first line is the ЕНП: what a clinic reads off the page.
            row.cell(value, style=FontFace(emphasis="BOLD") if index == 0 else None)

    pdf.ln(8)
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_text_color(80, 80, 80)
    for note in footer(extract):
        pdf.multi_cell(0, 4.5, note, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)
    return bytes(pdf.output())


def _draw_watermark(pdf: FPDF) -> None:
    """«ДЕМО» across the middle of the page, under what is printed after it."""
    pdf.set_font(FAMILY, "B", 120)
    pdf.set_text_color(*WATERMARK)
    width = pdf.get_string_width(DEMO_MARK)
    center_x, center_y = pdf.w / 2, pdf.h / 2
    with pdf.rotation(35, x=center_x, y=center_y):
        pdf.text(center_x - width / 2, center_y + 15, DEMO_MARK)
    pdf.set_text_color(0, 0, 0)


def _draw_qr(pdf: FPDF, content: str, right: float, top: float) -> float:
    """Draw a QR code of `content` with its top right corner at (right, top); return its side in mm."""
    code = segno.make_qr(content, error="m")
    matrix = code.matrix
    modules = len(matrix) + 2 * QR_QUIET_ZONE
    side = modules * QR_MODULE
    left = right - side
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(left, top, side, side, style="F")
    pdf.set_fill_color(0, 0, 0)
    for row_index, row in enumerate(matrix):
        y = top + (row_index + QR_QUIET_ZONE) * QR_MODULE
        for column_index, dark in enumerate(row):
            if dark:
                pdf.rect(left + (column_index + QR_QUIET_ZONE) * QR_MODULE, y, QR_MODULE, QR_MODULE, style="F")
    return side
