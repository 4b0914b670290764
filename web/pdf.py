"""Printed pages as PDF: a page's HTML laid out by WeasyPrint with the print stylesheet.

The PDF is the same template the browser prints (``print.css`` over ``app.css``),
so the paper letter and the PDF never drift apart. Nothing is fetched while
rendering: the stylesheets are read from the package and every URL the page
names (a script, a link) is refused, so making a PDF never reaches the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

CSS_DIR = Path(__file__).resolve().parent / "static" / "css"
STYLESHEETS = ("app.css", "print.css", "pdf.css")


class _FetchNothing(URLFetcher):  # type: ignore[misc]  # WeasyPrint is untyped
    """Refuses every URL; WeasyPrint leaves the resource out and goes on."""

    def fetch(self, url: str, headers: Any = None) -> Any:
        raise ValueError(f"The PDF is made from the page alone; {url} is not fetched.")


def pdf_of(html: str) -> bytes:
    """``html`` laid out for A4/Letter paper by the print stylesheet, as PDF bytes."""
    fetcher = _FetchNothing()
    sheets = [CSS(filename=str(CSS_DIR / name), url_fetcher=fetcher) for name in STYLESHEETS]
    document = HTML(string=html, url_fetcher=fetcher)
    pdf = document.write_pdf(stylesheets=sheets)
    assert isinstance(pdf, bytes)
    return pdf
