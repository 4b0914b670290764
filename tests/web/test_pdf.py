import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pypdf import PdfReader

from web.pdf import pdf_of


def test_pdf_of_lays_out_the_page_and_fetches_nothing() -> None:
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        here = f"http://127.0.0.1:{server.server_address[1]}"
        pdf = pdf_of(f'<html><head><link rel="stylesheet" href="{here}/x.css"></head><body>'
                     f'<p class="letter-id">CB-9-R1</p><img src="{here}/scan.png">'
                     '<h1>Decision of the spine conference</h1></body></html>')
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Decision of the spine conference" in text
    assert "Letter CB-9-R1" in text  # the page footer (pdf.css)
    assert asked == []
