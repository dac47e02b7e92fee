"""Printable documents of the gateway: the policy extract («выписка») as a PDF with a QR code of the ЕНП."""

from __future__ import annotations

from gateway.documents.extract import PolicyExtract, extract_lines
from gateway.documents.pdf import render_policy_extract

__all__ = ["PolicyExtract", "extract_lines", "render_policy_extract"]
