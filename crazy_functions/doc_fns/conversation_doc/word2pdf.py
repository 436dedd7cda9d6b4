"""A Word document to PDF with LibreOffice, where it is installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ...runtime.session import say


class WordToPdfConverter:
    @staticmethod
    def convert_to_pdf(word_path, pdf_path=None) -> str:
        office = shutil.which("soffice") or shutil.which("libreoffice")
        if office is None:
            raise RuntimeError(
                say(zh="转换 PDF 需要 LibreOffice（soffice）。", en="Converting to PDF needs LibreOffice (soffice).")
            )
        source = Path(word_path)
        target_dir = Path(pdf_path).parent if pdf_path else source.parent
        subprocess.run([office, "--headless", "--convert-to", "pdf", "--outdir", str(target_dir), str(source)],
                       check=True, capture_output=True, timeout=300)  # fmt: skip
        made = target_dir / (source.stem + ".pdf")
        if pdf_path and Path(pdf_path) != made:
            made.replace(pdf_path)
            made = Path(pdf_path)
        return str(made)
