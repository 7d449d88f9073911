"""Atomic writes: nothing half-written stays behind.

Files are written to a temporary sibling and renamed into place; directories are built in a
temporary sibling directory and swapped in at the end. Used by every writer (io, calibration,
design storage) so that an interrupted or failed run leaves either the old result or the new one.

Every temporary name has one recognisable form, ``.dermsim-staging-<name>-<pid>[.<random>]``, in
the target's own folder (a rename never crosses file systems). A failure or an interrupt
(SIGINT, and SIGTERM, which the CLI turns into an interrupt) removes it; a SIGKILL cannot, so the
next writer into the same folder removes every staging entry whose process is gone
(:func:`sweep_stale`). ``mkstemp``/``mkdtemp`` create private (0600/0700) entries; the final
files and folders get the permissions of the user's umask instead.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

STAGING_PREFIX = ".dermsim-staging-"
_STAGING = re.compile(r"^\.dermsim-staging-.*-(?P<pid>\d+)(?:\.[A-Za-z0-9_]+)?(?:-old)?$")
# Leftovers of earlier versions (".NAME.<random>.part", ".NAME.old") are swept as well.
_LEGACY = re.compile(r"^\..+\.(?:[A-Za-z0-9_]{8}\.part|old)$")


def _umask() -> int:
    # os.umask can only be read by setting it; set it back at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def follow_umask(path: Path) -> None:
    """Give ``path`` (and everything below a folder) the mode a plain ``open``/``mkdir`` would."""
    mask = _umask()
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            os.chmod(root, 0o777 & ~mask)
            for f in files:
                fp = os.path.join(root, f)
                if not os.path.islink(fp):
                    os.chmod(fp, 0o666 & ~mask)
            for d in dirs:
                dp = os.path.join(root, d)
                if not os.path.islink(dp):
                    os.chmod(dp, 0o777 & ~mask)
    elif path.exists():
        os.chmod(path, 0o666 & ~mask)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def is_staging(name: str) -> bool:
    """Whether ``name`` is a temporary entry of :mod:`dermsim._atomic` (any process)."""
    return name.startswith(STAGING_PREFIX)


def sweep_stale(folder: str | os.PathLike[str], *, legacy_for: str | None = None) -> list[Path]:
    """Remove staging entries in ``folder`` whose process no longer runs (a killed run's
    leftovers); with ``legacy_for`` also the ``.NAME.*.part``/``.NAME.old`` leftovers of earlier
    versions for that target name. Returns what was removed."""
    root = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(root))
    except OSError:
        return removed
    for e in entries:
        m = _STAGING.match(e.name)
        legacy = (legacy_for is not None and e.name.startswith(f".{legacy_for}.")
                  and _LEGACY.match(e.name) is not None)
        if not legacy and (m is None or _alive(int(m.group("pid")))):
            continue
        p = Path(e.path)
        with contextlib.suppress(OSError):
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
            removed.append(p)
    return removed


def staging_name(target: Path, *, unique: bool = True) -> str:
    return f"{STAGING_PREFIX}{target.name}-{os.getpid()}" + (".{}" if unique else "")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed to ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{STAGING_PREFIX}{target.name}-{os.getpid()}.", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        follow_umask(tmp_path)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a fresh temporary directory beside ``path``; on success it replaces ``path``.

    This is the library writer (``write_adam_dir`` and the like): it replaces ``path`` as a
    whole. Commands that write into a user's ``--out`` go through
    :mod:`dermsim.workflows.outputs`, which refuses to replace what dermsim did not write."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(target.parent, legacy_for=target.name)
    tmp = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{target.name}-{os.getpid()}.", dir=target.parent))
    try:
        yield tmp
        follow_umask(tmp)
        if target.exists() or target.is_symlink():
            old = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{target.name}-{os.getpid()}.",
                                        dir=target.parent))
            os.rmdir(old)
            os.replace(target, old)
            os.replace(tmp, target)
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            else:
                old.unlink()
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
