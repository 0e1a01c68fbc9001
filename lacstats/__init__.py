"""lacstats: placement sufficiency and commissioning statistics for looked-after children.

Statistical modules compute; they never read files, print or plot. The ``lacstats``
command and the scripts in ``analyses/`` do the I/O.
"""

from lacstats.errors import ConvergenceError, DataError, LacstatsError

#: The version of lacstats.
__version__ = "0.1.0"
__all__ = ["ConvergenceError", "DataError", "LacstatsError", "__version__"]
