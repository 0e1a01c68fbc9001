"""Workbooks as bytes, the same bytes for the same content.

openpyxl stamps the time of saving into ``docProps/core.xml`` and into every zip entry;
:func:`workbook_bytes` fixes both, so a template or an issues list made twice from the same
study and returns is byte-identical (the package's rule for every output).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

__all__ = ["EPOCH", "workbook_bytes"]

#: The creation and modification time written into every workbook lacstats makes.
EPOCH = dt.datetime(2020, 1, 1)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def workbook_bytes(book) -> bytes:
    """An openpyxl workbook saved to bytes with fixed timestamps."""
    book.properties.creator = "lacstats"
    book.properties.created = EPOCH
    buffer = io.BytesIO()
    book.save(buffer)
    out = io.BytesIO()
    stamp = EPOCH.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", data)
            info = zipfile.ZipInfo(entry.filename, date_time=EPOCH.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, data)
    return out.getvalue()
