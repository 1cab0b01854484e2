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
import secrets
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
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage

from service.notices.documents import Notice
from service.notices.texts import TEMPLATES_DIR

KINDS = ("congvan", "baocao")
SUFFIXES = {"docx": ".docx", "html": ".html.j2"}
#: Tables fitted to the page carry this caption (set by build_templates.py).
APPENDIX_TABLE = "dvcwatch-appendix"
CHART_WIDTH = Mm(150)
NUMBER_COLUMN, NAME_COLUMN = Mm(12), Mm(55)


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


def write_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to `path` whole or not at all (temporary file, then rename).

    The file is created with mode 0666 less the process's umask (0640 under
    systemd's `UMask=0027`), never a fixed mode.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = _create_partial(path)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())  # the bytes reach the disk before the name does
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    return path


def _create_partial(path: Path) -> tuple[int, Path]:
    """A new, exclusive temporary file next to `path`; unlike mkstemp (always 0600)
    it lets the umask decide who may read the finished notice."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
    for _ in range(16):
        partial = path.parent / f".{path.name}.{secrets.token_hex(6)}.part"
        try:
            return os.open(partial, flags, 0o666), partial
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {path}")


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
    template = DocxTemplate(template_path)
    images = {
        key: InlineImage(template, io.BytesIO(png), width=CHART_WIDTH) if png else None
        for key, png in _chart_places(document, charts).items()
    }
    try:
        template.render({"doc": document, "charts": images}, _docx_environment())
    except jinja2.TemplateError as error:
        raise NoticeTemplateError(f"template {template_path}: {error.message}") from error
    _fit_tables(template.docx)
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()


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


def _docx_environment() -> jinja2.Environment:
    # autoescape: a unit name with "<" or "&" must not break the document's XML
    return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)


@lru_cache(maxsize=8)
def _html_environment(folder: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader([folder, TEMPLATES_DIR]),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
    )


def _fit_tables(docx: DocxDocument) -> None:
    """Give each appendix table the width of its page's text: a narrow number
    column, a wide name column, the rest shared. docxtpl repeats cells but
    cannot size them."""
    body = docx.element.body
    pending: list[Any] = []
    for element in body.iterchildren():
        if element.tag == qn("w:tbl") and _is_appendix(element):
            pending.append(element)
        section = element.find(f"{qn('w:pPr')}/{qn('w:sectPr')}")
        if element.tag == qn("w:sectPr"):
            section = element
        if section is not None:
            for table in pending:
                _fit(table, _text_width(section))
            pending = []


def _is_appendix(table: Any) -> bool:
    caption = table.find(f"{qn('w:tblPr')}/{qn('w:tblCaption')}")
    return caption is not None and caption.get(qn("w:val")) == APPENDIX_TABLE


def _text_width(section: Any) -> int:
    """Text width in twentieths of a point (the unit of table widths)."""
    size, margins = section.find(qn("w:pgSz")), section.find(qn("w:pgMar"))
    return (
        int(size.get(qn("w:w"))) - int(margins.get(qn("w:left"))) - int(margins.get(qn("w:right")))
    )


def _fit(table: Any, width: int) -> None:
    rows = table.findall(qn("w:tr"))
    count = max((len(row.findall(qn("w:tc"))) for row in rows), default=0)
    if count < 3:
        return
    first, name = NUMBER_COLUMN.twips, NAME_COLUMN.twips
    rest = max((width - first - name) // (count - 2), 1)
    widths = [first, name] + [rest] * (count - 2)
    _fixed_layout(table, width)
    grid = table.find(qn("w:tblGrid"))
    for column in list(grid):
        grid.remove(column)
    for value in widths:
        column = grid.makeelement(qn("w:gridCol"), {qn("w:w"): str(value)})
        grid.append(column)
    for row in rows:
        for cell, value in zip(row.findall(qn("w:tc")), widths, strict=False):
            properties = cell.find(qn("w:tcPr"))
            if properties is None:
                properties = cell.makeelement(qn("w:tcPr"), {})
                cell.insert(0, properties)
            for old in properties.findall(qn("w:tcW")):
                properties.remove(old)
            size = properties.makeelement(qn("w:tcW"), {qn("w:w"): str(value), qn("w:type"): "dxa"})
            properties.insert(0, size)


#: The order of a table's properties in the schema (Word rejects them out of order).
_TABLE_PROPERTIES = [
    qn(f"w:{name}")
    for name in (
        "tblStyle",
        "tblpPr",
        "tblOverlap",
        "bidiVisual",
        "tblStyleRowBandSize",
        "tblStyleColBandSize",
        "tblW",
        "jc",
        "tblCellSpacing",
        "tblInd",
        "tblBorders",
        "shd",
        "tblLayout",
        "tblCellMar",
        "tblLook",
        "tblCaption",
        "tblDescription",
    )
]


def _fixed_layout(table: Any, width: int) -> None:
    """The table as wide as the text, its columns as given (not re-fitted by Word)."""
    properties = table.find(qn("w:tblPr"))
    size = {qn("w:w"): str(width), qn("w:type"): "dxa"}
    put_table_property(properties, properties.makeelement(qn("w:tblW"), size))
    layout = {qn("w:type"): "fixed"}
    put_table_property(properties, properties.makeelement(qn("w:tblLayout"), layout))


def put_table_property(properties: Any, element: Any) -> None:
    """Put `element` into a table's `w:tblPr`, replacing one of the same kind, at
    its place in the schema's order."""
    for old in properties.findall(element.tag):
        properties.remove(old)
    rank = _TABLE_PROPERTIES.index(element.tag)
    later = [child for child in properties if child.tag in _TABLE_PROPERTIES[rank + 1 :]]
    if later:
        later[0].addprevious(element)
    else:
        properties.append(element)


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
