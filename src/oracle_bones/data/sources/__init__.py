"""Where the glyphs come from: one module per source, each stating its licence and upstream.

A record keeps the source's own encoded image (JPEG file or rendered PNG) so the dataset stays
as close to upstream as possible; normalisation happens later, identically everywhere.
"""

from .ayjgw import AYJGW
from .base import Record, Source, SourceUnavailable
from .feedback import FEEDBACK
from .fzjgw import FZJGW
from .hwobc import HWOBC
from .isobs import ISOBS
from .jiaguwen import JIAGUWEN
from .zihuisong import ZIHUISONG
from .zjnu_chennianfu import ZJNU

SOURCES: dict[str, Source] = {
    s.name: s for s in (JIAGUWEN, ZJNU, ZIHUISONG, ISOBS, AYJGW, HWOBC, FZJGW, FEEDBACK)
}
# Every source whose terms allow publishing a dataset built from it; fzjgw only when named.
DEFAULT_SOURCES = ("jiaguwen", "zjnu-chennianfu", "zihuisong", "isobs", "ayjgw", "hwobc")

__all__ = ["DEFAULT_SOURCES", "SOURCES", "Record", "Source", "SourceUnavailable"]
