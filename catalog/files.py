"""Find the YAML files of a catalog directory, saying why any entry that looks like part of it is not read.

A directory is searched recursively, following symlinks. Names starting with `.` are skipped: editor and
version-control files, and the timestamped copies a Kubernetes ConfigMap mount keeps beside its `..data`
link (each key is also a plain-named symlink, so its file is read once, under that name). Suffixes match
without regard to case (`.yaml`, `.yml`, `.YAML`). Nothing but a regular file is ever opened.

- a directory that cannot be listed, a dangling symlink or a symlink loop: an error (files the author meant
  to be read would be missing);
- a FIFO, socket or device with a YAML name, or a second path to a file or directory already read: a
  warning, and it is skipped.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from catalog.errors import Problem
from catalog.yaml_source import file_kind

YAML_SUFFIXES = (".yaml", ".yml")


def display_path(path: Path) -> str:
    """The path as the user named it (symlinks not resolved), relative to the working directory if inside it."""
    try:
        relative = os.path.relpath(os.path.abspath(path))
    except OSError:  # the working directory is gone
        return str(path)
    return relative if not relative.startswith("..") else str(path)


def find_files(root: Path) -> tuple[list[Path], list[Problem]]:
    """The YAML files making up a catalog path (one file, or a directory searched recursively), and problems."""
    if not root.is_dir():
        return [root], []
    walk = _Walk()
    top = os.stat(root)
    walk.pending.append((root, {(top.st_dev, top.st_ino): root}))
    while walk.pending:  # a loop, not recursion: a directory tree may be thousands of levels deep
        walk.directory(*walk.pending.pop())
    return sorted(walk.files), walk.problems


class _Walk:
    def __init__(self) -> None:
        self.files: list[Path] = []
        self.problems: list[Problem] = []
        self.seen: dict[tuple[int, int], Path] = {}
        self.pending: list[tuple[Path, dict[tuple[int, int], Path]]] = []

    def directory(self, directory: Path, ancestors: dict[tuple[int, int], Path]) -> None:
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            self.error(directory, f"cannot list directory: {exc.strerror}; fix its permissions or remove it")
            return
        for entry in entries:
            if not entry.name.startswith("."):
                self.entry(Path(entry.path), ancestors)

    def entry(self, path: Path, ancestors: dict[tuple[int, int], Path]) -> None:
        is_yaml = path.suffix.lower() in YAML_SUFFIXES
        try:
            info = os.stat(path)  # follows symlinks
        except OSError as exc:
            self.unreachable(path, exc, is_yaml)
            return
        key = (info.st_dev, info.st_ino)
        if stat.S_ISDIR(info.st_mode):
            if key in ancestors:
                self.error(
                    path,
                    f"symlink loop: this directory is {display_path(ancestors[key])}, which contains it; "
                    "remove the link",
                )
            elif key in self.seen:
                self.warn(path, f"skipped: the same directory as {display_path(self.seen[key])}, read once")
            else:
                self.seen[key] = path
                self.pending.append((path, {**ancestors, key: path}))
        elif is_yaml:
            if not stat.S_ISREG(info.st_mode):
                self.warn(path, f"skipped: not a regular file ({file_kind(info.st_mode)})")
            elif key in self.seen:
                self.warn(path, f"skipped: the same file as {display_path(self.seen[key])}, read once")
            else:
                self.seen[key] = path
                self.files.append(path)

    def unreachable(self, path: Path, exc: OSError, is_yaml: bool) -> None:
        if exc.errno == errno.ELOOP:
            message = "symlink loop: the link leads back to itself; point it at a real file or remove it"
        elif exc.errno == errno.ENOENT and path.is_symlink():
            message = f"symlink to {os.readlink(path)}, which does not exist; fix the link or remove it"
        else:
            message = f"cannot read: {exc.strerror}"
        if is_yaml:
            self.error(path, message)
        else:
            self.warn(path, f"skipped: {message}")

    def error(self, path: Path, message: str) -> None:
        self.problems.append(Problem(display_path(path), "", message))

    def warn(self, path: Path, message: str) -> None:
        self.problems.append(Problem(display_path(path), "", message, level="warning"))
