"""Workbooks as bytes, the same bytes for the same content, every cell safe.

openpyxl stamps the time of saving into ``docProps/core.xml`` and into every zip entry, and
stores any text beginning with ``=`` as a formula; :func:`lacstats.cells.workbook_bytes`
fixes both, so a template or an issues list made twice from the same study and returns is
byte-identical (the package's rule for every output) and no echoed cell of a return can
run in the spreadsheet of the authority it is sent back to.
"""

from __future__ import annotations

from lacstats.cells import EPOCH, workbook_bytes

__all__ = ["EPOCH", "workbook_bytes"]
