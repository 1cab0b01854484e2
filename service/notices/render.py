"""Notices to files: .docx through docxtpl, HTML through Jinja2, PDF through LibreOffice.

The edge of the notices: `congvan.py` and `baocao.py` give a notice's content as values;
here it meets the templates and the disk. Templates are looked up in an
office's own folder first, then in `templates/notices`. Rendering is strict:
a template naming anything the document does not have is a
`NoticeTemplateError` naming the template and the variable. Every file is
written atomically (a temporary file in the target folder, then a rename),
so a failed render never leaves a partial document behind. Everything a
template prints is escaped (XML in .docx, HTML in HTML).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import io
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from docx.oxml.ns import qn
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage

from service.files import write_atomic
from service.notices.documents import Notice
from service.notices.tables import fit_tables
from service.notices.texts import TEMPLATES_DIR

KINDS = ("congvan", "baocao")
SUFFIXES = {"docx": ".docx", "html": ".html.j2"}
CHART_WIDTH = Mm(150)


class NoticeTemplateError(ValueError):
    """A template is missing, or does not fit the document; names template and variable."""


class PdfUnavailable(RuntimeError):
    """No PDF can be made here: LibreOffice is not installed."""


class PdfConversionFailed(RuntimeError):
    """LibreOffice ran but gave no PDF (failed or timed out); names the file."""


def find_template(kind: str, override_dir: Path | None, fmt: str = "docx") -> Path:
    """The template of `kind` ("congvan", "baocao") in `fmt` ("docx", "html"):
    the office's own in `override_dir` if it has one, else the bundled one."""
    if kind not in KINDS or fmt not in SUFFIXES:
        raise NoticeTemplateError(
            f"no template for kind {kind!r}, format {fmt!r}: kinds are {', '.join(KINDS)}, "
            f"formats {', '.join(SUFFIXES)}"
        )
    name = f"{kind}{SUFFIXES[fmt]}"
    for folder in (override_dir, TEMPLATES_DIR):
        if folder is not None and (folder / name).is_file():
            return folder / name
    raise NoticeTemplateError(f"template {name} is missing from {TEMPLATES_DIR}")


def render_docx(
    document: Notice,
    template_path: Path,
    out_path: Path,
    charts: Mapping[str, bytes] | None = None,
) -> Path:
    """Render `document` through the .docx template into `out_path`, atomically.

    `charts` maps chart keys (see the document's `Chart` places) to PNG bytes;
    a place without an image is left out.
    """
    return write_atomic(out_path, docx_bytes(document, template_path, charts))


def docx_bytes(
    document: Notice, template_path: Path, charts: Mapping[str, bytes] | None = None
) -> bytes:
    """The rendered .docx as bytes (nothing written)."""
    template = _Template(template_path)
    images = {
        key: InlineImage(template, io.BytesIO(png), width=CHART_WIDTH) if png else None
        for key, png in _chart_places(document, charts).items()
    }
    try:
        template.render({"doc": document, "charts": images}, _docx_environment())
    except jinja2.TemplateError as error:
        raise NoticeTemplateError(f"template {template_path}: {error.message}") from error
    fit_tables(template.docx)
    _flatten_section_breaks(template.docx)
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()


def _flatten_section_breaks(docx: Any) -> None:
    """The empty paragraph that ends a section after a table (the signature's, before
    a landscape appendix) made a point high: at 14 pt it fell onto a page of its own
    when the signature ended a page, printing an empty page."""
    body = docx.element.body
    for paragraph in body.iterchildren(qn("w:p")):
        properties = paragraph.find(qn("w:pPr"))
        section = properties.find(qn("w:sectPr")) if properties is not None else None
        previous = paragraph.getprevious()
        if section is None or previous is None or previous.tag != qn("w:tbl"):
            continue
        if paragraph.find(qn("w:r")) is not None or properties.find(qn("w:spacing")) is not None:
            continue
        exact = {"w:before": "0", "w:after": "0", "w:line": "20", "w:lineRule": "exact"}
        spacing = properties.makeelement(qn("w:spacing"), {qn(k): v for k, v in exact.items()})
        mark = properties.makeelement(qn("w:rPr"), {})
        mark.append(mark.makeelement(qn("w:sz"), {qn("w:val"): "2"}))
        section.addprevious(spacing)
        section.addprevious(mark)


def render_html(document: Notice, template: Path, charts: Mapping[str, bytes] | None = None) -> str:
    """The document as an HTML page; charts embedded as data: URIs. Every value is
    escaped. A template may extend the bundled ones (they are on the search path)."""
    environment = _html_environment(template.parent.resolve())
    images = {
        key: f"data:image/png;base64,{base64.b64encode(png).decode()}" if png else None
        for key, png in _chart_places(document, charts).items()
    }
    try:
        return environment.get_template(template.name).render(doc=document, charts=images)
    except jinja2.TemplateError as error:
        raise NoticeTemplateError(f"template {template}: {error.message}") from error


def _chart_places(document: Notice, charts: Mapping[str, bytes] | None) -> dict[str, bytes]:
    """Every chart place of the document, with its image or b"" (so templates can test it)."""
    places = {chart.key for appendix in document.appendices for chart in appendix.charts}
    return {key: (charts or {}).get(key, b"") for key in places}


class _CompiledOnce(jinja2.Environment):
    """An environment that compiles each template source once: docxtpl hands every
    part's XML to `from_string` on every render, and compiling it again each time
    was a tenth of a Công văn's time. Sources are the few parts of the few templates."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._compiled: dict[str, jinja2.Template] = {}

    def from_string(  # type: ignore[override]
        self, source: str, globals: Any = None, template_class: Any = None
    ) -> jinja2.Template:
        if globals is not None or template_class is not None:
            return super().from_string(source, globals, template_class)
        if source not in self._compiled:
            if len(self._compiled) >= 64:  # templates edited while the service runs
                self._compiled.clear()
            self._compiled[source] = super().from_string(source)
        return self._compiled[source]


class _Template(DocxTemplate):
    """docxtpl's template, its preparation of a part's XML for Jinja done once per source:
    `patch_xml` is some twenty regular expressions over the whole part, the same result
    for the same XML, and was a tenth of a Công văn's render (like compiling, above)."""

    _patched: dict[str, str] = {}  # the template parts' XML → prepared, for every template

    def patch_xml(self, src_xml: str) -> str:
        patched = self._patched.get(src_xml)
        if patched is None:
            if len(self._patched) >= 64:  # templates edited while the service runs
                self._patched.clear()
            patched = self._patched[src_xml] = super().patch_xml(src_xml)
        return patched


@lru_cache(maxsize=1)
def _docx_environment() -> jinja2.Environment:
    # autoescape: a unit name with "<" or "&" must not break the document's XML
    return _CompiledOnce(undefined=jinja2.StrictUndefined, autoescape=True)


@lru_cache(maxsize=8)
def _html_environment(folder: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([folder, TEMPLATES_DIR]),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
    )


# PDF through LibreOffice -------------------------------------------------------------

_CONVERSION = threading.Lock()
_LOCK_FILE = Path(tempfile.gettempdir()) / "dvcwatch-soffice.lock"
_PROGRAMS = ("soffice", "libreoffice")


def render_pdf(docx_path: Path, out_dir: Path, timeout: float = 120.0) -> Path:
    """Convert a rendered .docx to PDF in `out_dir` with LibreOffice, atomically.

    One conversion at a time (in this process and across processes), each
    with its own throw-away LibreOffice profile, killed after `timeout`
    seconds. Raises `PdfUnavailable` when LibreOffice is not installed and
    `PdfConversionFailed` when it gives no PDF.
    """
    program = next((found for name in _PROGRAMS if (found := shutil.which(name))), None)
    if program is None:
        raise PdfUnavailable(
            "cannot make a PDF: LibreOffice is not installed (no 'soffice' or 'libreoffice' "
            "on PATH). Install LibreOffice (e.g. the libreoffice-writer package) or ask for "
            "docx and html only; the .docx is written either way."
        )
    with _one_at_a_time(), tempfile.TemporaryDirectory(prefix="dvcwatch-pdf-") as work:
        produced = _convert(program, docx_path.resolve(), Path(work), timeout)
        return write_atomic(out_dir / produced.name, produced.read_bytes())


@contextlib.contextmanager
def _one_at_a_time() -> Iterator[None]:
    with _CONVERSION, _LOCK_FILE.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _convert(program: str, source: Path, work: Path, timeout: float) -> Path:
    command = [
        program,
        f"-env:UserInstallation={(work / 'profile').as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(work / "out"),
        str(source),
    ]
    # its own session, so a timeout kills LibreOffice's helper processes too
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    ) as process:
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise PdfConversionFailed(
                f"LibreOffice took longer than {timeout:g} s converting {source}; stopped"
            ) from None
    produced = work / "out" / f"{source.stem}.pdf"
    if process.returncode != 0 or not produced.is_file():
        detail = stderr.decode(errors="replace").strip()[-500:] or "no message"
        raise PdfConversionFailed(
            f"LibreOffice gave no PDF for {source} (exit {process.returncode}): {detail}"
        )
    return produced
