"""The catalog: the single source of truth for teams, services, SLOs, sources and drift monitors."""

from catalog.errors import CatalogError, Problem
from catalog.loader import LoadResult, load_catalog
from catalog.model import Catalog

__all__ = ["Catalog", "CatalogError", "LoadResult", "Problem", "load_catalog"]
