"""What `/metrics` serves for a request's headers: the format, by the Accept header's q-values (RFC 9110
12.5.1), and whether to gzip, by Accept-Encoding (RFC 9110 12.5.3)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    media_type: str
    version: str
    openmetrics: bool

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; version={self.version}; charset=utf-8"


TEXT = Format("text/plain", "0.0.4", openmetrics=False)
OPENMETRICS = Format("application/openmetrics-text", "1.0.0", openmetrics=True)
OPENMETRICS_001 = Format("application/openmetrics-text", "0.0.1", openmetrics=True)
FORMATS = (TEXT, OPENMETRICS, OPENMETRICS_001)
"""What /metrics serves; on equal q-values the first listed wins (text for `*/*`, then the newest)."""
NOT_ACCEPTABLE = (
    "not acceptable: /metrics serves text/plain;version=0.0.4 and "
    "application/openmetrics-text;version=1.0.0 or 0.0.1\n"
)


def _ranges(accept: str) -> list[tuple[str, str, str | None, float]]:
    """(type, subtype, version or None, q) per media range; a malformed range is skipped."""
    out = []
    for item in accept.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        kind, slash, subtype = media.lower().partition("/")
        if not slash or not kind or not subtype:
            continue
        version, q = None, 1.0
        try:
            for param in params:
                key, _, raw = param.partition("=")
                key, raw = key.strip().lower(), raw.strip().strip('"')
                if key == "q":
                    q = float(raw)
                    if not 0 <= q <= 1:
                        raise ValueError(raw)
                elif key == "version":
                    version = raw
        except ValueError:
            continue
        out.append((kind, subtype, version, q))
    return out


def _quality(fmt: Format, ranges: list[tuple[str, str, str | None, float]]) -> float | None:
    """The q of the most specific range matching `fmt`; None if none does."""
    kind, subtype = fmt.media_type.split("/")
    best: tuple[int, float] | None = None
    for r_kind, r_subtype, version, q in ranges:
        if r_kind == "*" and r_subtype == "*":
            specificity = 0
        elif r_kind == kind and r_subtype == "*":
            specificity = 1
        elif (r_kind, r_subtype) == (kind, subtype) and version in (None, fmt.version):
            specificity = 2 if version is None else 3
        else:
            continue
        if best is None or specificity > best[0]:
            best = (specificity, q)
    return None if best is None else best[1]


def negotiate(accept: str | None) -> Format | None:
    """The format to serve for an Accept header; None when every format we have is refused (406).

    A header matching nothing we serve (application/json, OpenMetrics 2.0) gets the text format, as
    Prometheus' client_golang does.
    """
    if not accept or not accept.strip():
        return TEXT
    ranges = _ranges(accept)
    scored = [(q, -i, fmt) for i, fmt in enumerate(FORMATS) if (q := _quality(fmt, ranges)) is not None]
    acceptable = [entry for entry in scored if entry[0] > 0]
    if acceptable:
        return max(acceptable, key=lambda entry: entry[:2])[2]
    return None if any(fmt == TEXT for _, _, fmt in scored) else TEXT


def accepts_gzip(header: str | None) -> bool:
    """True if an Accept-Encoding header (RFC 9110 12.5.3) gives gzip a q above 0, by name or by `*`."""
    if not header:
        return False
    named: float | None = None
    star: float | None = None
    for item in header.split(","):
        coding, *params = (part.strip() for part in item.split(";"))
        q = 1.0
        for param in params:
            key, _, raw = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(raw.strip())
                except ValueError:
                    q = 0.0
        coding = coding.lower()
        if coding in ("gzip", "x-gzip"):
            named = q
        elif coding == "*":
            star = q
    chosen = named if named is not None else star
    return chosen is not None and chosen > 0
