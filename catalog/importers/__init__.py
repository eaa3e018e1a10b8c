"""Convert other tools' SLO specs (Sloth, OpenSLO) into Watchkeeper catalog data."""

from catalog.importers.common import ImportResult, SpecImportError

__all__ = ["ImportResult", "SpecImportError"]
