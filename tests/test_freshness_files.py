"""File freshness: the newest mtime of a file, of a directory and its entries, or of a glob's matches.

Every mtime is set by hand with os.utime, so the expected timestamp is the largest one set.
"""

from __future__ import annotations

import os
from pathlib import Path

from exporters import names as m
from tests.freshness_helpers import collectors, entry, errors, scrape, up

T = 1_714_636_800  # 2024-05-02T08:00:00Z


def _touch(path: Path, mtime: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.utime(path, (mtime, mtime))


def test_file_directory_and_glob(tmp_path: Path) -> None:
    lake = tmp_path / "lake" / "orders"
    _touch(lake / "dt=2024-04-30" / "_SUCCESS", T - 2 * 86400)
    _touch(lake / "dt=2024-05-01" / "_SUCCESS", T - 86400)
    _touch(lake / "dt=2024-05-01" / "part-0.parquet", T - 86000)  # written after the marker
    _touch(lake / "dt=2024-05-02" / "part-0.parquet", T - 600)  # today's partition, no marker yet
    for partition in ("dt=2024-04-30", "dt=2024-05-01", "dt=2024-05-02"):
        os.utime(lake / partition, (T - 3600, T - 3600))
    os.utime(lake, (T - 7200, T - 7200))
    sources = collectors(
        entry("marker", file={"path": str(lake / "dt=2024-05-01" / "_SUCCESS")}),
        entry("directory", file={"path": str(lake)}),  # itself and its partitions: T - 3600
        entry("markers", file={"path": f"{lake}/dt=*/_SUCCESS"}),  # the newest marker: T - 86400
        entry("recursive", file={"path": f"{lake}/**/*.parquet"}),  # the newest file: T - 600
        entry("missing", file={"path": str(tmp_path / "nope" / "_SUCCESS")}),
        entry("no-match", file={"path": f"{lake}/dt=*/_DONE"}),
    )
    found = scrape(*sources)
    expected = {"marker": T - 86400, "directory": T - 3600, "markers": T - 86400, "recursive": T - 600}
    for dataset, stamp in expected.items():
        assert up(found, dataset) == 1, (dataset, errors(found, dataset))
        assert found.value(m.FRESHNESS_TIMESTAMP_SECONDS, dataset=dataset) == stamp, dataset
    for dataset in ("missing", "no-match"):
        assert up(found, dataset) == 0 and errors(found, dataset) == {"not_found": 1}
        assert found.value(m.FRESHNESS_AGE_SECONDS, dataset=dataset) is None
