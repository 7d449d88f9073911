"""The one output policy of every command that writes into a user's ``--out``.

* ``--out`` that is a file where a folder is wanted (or a folder where a file is wanted) is an
  error; so is a parent that is not a folder.
* ``--out`` that exists and is not empty is an error unless ``overwrite`` (which replaces only
  what dermsim wrote there, as listed in the folder's :data:`MANIFEST`; a user's own file is
  never deleted, renamed or replaced) or ``resume`` (the command continues its own run).
* Nothing is created until the command has checked all its arguments: commands call
  :func:`check_out` first, then write through :func:`output_dir` / :func:`output_file`.
* The result is built in a staging folder inside ``--out``'s parent, named
  ``.dermsim-staging-<name>-<pid>`` (see :mod:`dermsim._atomic`), removed on failure, on
  SIGINT/SIGTERM and, after a SIGKILL, by the next command writing there.
* Files and folders get the permissions of the user's umask.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from dermsim._atomic import STAGING_PREFIX, atomic_path, follow_umask, is_staging, sweep_stale
from dermsim.errors import InvalidInputError

__all__ = ["MANIFEST", "OVERWRITE_HELP", "check_out", "output_dir", "output_file", "record_files",
           "remove_written", "written_files"]

# The list of files dermsim wrote in an output folder (relative POSIX paths, sorted).
MANIFEST = ".dermsim-files.json"
OVERWRITE_HELP = ("Replace an earlier dermsim output in --out (only the files dermsim wrote there, "
                  "by its manifest; other files are kept).")


def _entries(folder: Path) -> list[str]:
    return sorted(e for e in os.listdir(folder) if not is_staging(e))


def written_files(folder: str | os.PathLike[str]) -> set[str]:
    """The files dermsim wrote in ``folder`` by its manifest (empty when there is none)."""
    p = Path(folder) / MANIFEST
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        return {str(f) for f in doc.get("files", [])} | {MANIFEST}
    except (OSError, ValueError, AttributeError):
        return set()


def record_files(folder: str | os.PathLike[str], names: list[str]) -> None:
    """Add ``names`` (paths relative to ``folder``) to its manifest: for commands that write into
    ``--out`` in place (``design``: its store is its checkpoint), so that ``--overwrite`` knows them."""
    root = Path(folder)
    files = sorted((written_files(root) - {MANIFEST}) | set(names))
    with atomic_path(root / MANIFEST) as tmp:
        tmp.write_text(json.dumps({"files": files}, indent=1) + "\n", encoding="utf-8")


def remove_written(folder: str | os.PathLike[str]) -> None:
    """Delete the files dermsim wrote in ``folder`` (by its manifest), and nothing else."""
    root = Path(folder)
    for f in sorted(written_files(root), key=lambda x: x == MANIFEST):
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            (root / f).unlink()


def _check_parent(out: Path, option: str) -> None:
    for parent in [out.parent, *out.parent.parents]:
        if parent.exists() or parent.is_symlink():
            if not parent.is_dir():
                raise InvalidInputError(f"{option} {out}: {parent} is a file, not a folder.")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise InvalidInputError(f"{option} {out}: the folder {parent} is not writable.")
            return


def _check_writable(out: Path, option: str) -> None:
    """An existing output folder (to overwrite or resume) and its subfolders must be writable: a
    read-only one (permissions, a read-only file system) is refused before anything runs, rather
    than failing after the run or leaving the old output half-replaced."""
    for folder in [out, *(Path(d) for d, _dirs, _files in os.walk(out) if Path(d) != out)]:
        if not os.access(folder, os.W_OK | os.X_OK):
            what = "" if folder == out else f" (its folder {folder.relative_to(out).as_posix()})"
            raise InvalidInputError(f"{option} {out}{what} is read-only; dermsim cannot replace its files "
                                    "there; make it writable or choose a new folder.")


def check_out(out: str | os.PathLike[str], *, overwrite: bool = False, resume: bool = False,
              kind: str = "dir", option: str = "--out", resumable: bool = False) -> Path:
    """Check ``out`` against the policy (module docstring) without creating anything; returns it.

    ``kind`` is ``"dir"`` (an output folder) or ``"file"`` (one output file); ``resumable`` for
    commands with ``--resume`` (the message then offers it)."""
    p = Path(out)
    if str(out).strip() == "":
        raise InvalidInputError(f"{option} must be a path; got an empty string.")
    if p.exists() or p.is_symlink():
        if kind == "dir":
            if not p.is_dir():
                raise InvalidInputError(f"{option} {p} is a file; expected a folder (new or empty).")
            entries = _entries(p)
            if entries and not (overwrite or resume):
                again = "--resume to continue the run stored there, " if resumable else ""
                raise InvalidInputError(
                    f"{option} {p} exists and is not empty ({len(entries)} entries); pass {again}--overwrite "
                    "to replace what dermsim wrote there, or choose a new folder.")
            if overwrite and entries:
                ours = {f.split("/")[0] for f in written_files(p)}
                if not ours:
                    raise InvalidInputError(
                        f"{option} {p} is not a dermsim output folder (no {MANIFEST}); --overwrite "
                        "replaces only what dermsim wrote; choose a new or empty folder.")
            if (overwrite or resume) and entries:
                _check_writable(p, option)
        else:
            if p.is_dir():
                raise InvalidInputError(f"{option} {p} is a folder; expected a file name.")
            if not overwrite:
                raise InvalidInputError(f"{option} {p} exists; pass --overwrite to replace it, or "
                                        "choose a new file name.")
    _check_parent(p, option)
    return p


def _all_files(root: Path) -> list[str]:
    out = []
    for dirpath, dirnames, files in os.walk(root):
        dirnames.sort()
        rel = Path(dirpath).relative_to(root)
        out += [(rel / f).as_posix() for f in sorted(files)]
    return out


def _publish(staging: Path, target: Path) -> None:
    files = _all_files(staging)
    (staging / MANIFEST).write_text(json.dumps({"files": files}, indent=1) + "\n", encoding="utf-8")
    follow_umask(staging)
    if not target.exists():
        os.replace(staging, target)
        return
    ours = written_files(target)
    present = _all_files(target)
    user = [f for f in present if f not in ours and not is_staging(Path(f).name)]
    if not present or not user:
        # only dermsim's files there: swap the folders (atomic), then drop the old one
        old = target.with_name(f"{STAGING_PREFIX}{target.name}-{os.getpid()}-old")
        os.replace(target, old)
        try:
            os.replace(staging, target)
        except BaseException:
            os.replace(old, target)  # the earlier output stays as it was
            raise
        shutil.rmtree(old, ignore_errors=True)
        return
    clash = sorted(set(user) & (set(files) | {MANIFEST}))
    top_clash = sorted({f.split("/")[0] for f in user} & {f.split("/")[0] for f in files}
                       - {f.split("/")[0] for f in ours})
    if clash or top_clash:
        raise InvalidInputError(
            f"--out {target}: {(clash or top_clash)[0]} is not dermsim's (not in {MANIFEST}) and would be "
            "replaced; move it away or choose a new folder.")
    # the folder also holds the user's files: remove only dermsim's old files, move the new in
    for f in sorted(ours):
        with contextlib.suppress(FileNotFoundError):
            (target / f).unlink()
    for dirpath, _dirs, _files in sorted(os.walk(target), key=lambda t: -len(t[0])):
        with contextlib.suppress(OSError):
            if Path(dirpath) != target:
                os.rmdir(dirpath)  # only empty folders
    for name in sorted(os.listdir(staging)):
        os.replace(staging / name, target / name)


@contextlib.contextmanager
def output_dir(out: str | os.PathLike[str], *, overwrite: bool = False,
               option: str = "--out") -> Iterator[Path]:
    """Yield an empty staging folder; when the block succeeds its content becomes ``out``
    (with a manifest of the files); on any failure or interrupt nothing of it stays."""
    target = check_out(out, overwrite=overwrite, option=option)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(target.parent, legacy_for=target.name)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{target.name}-{os.getpid()}.",
                                    dir=target.parent))
    try:
        yield staging
        _publish(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def output_file(out: str | os.PathLike[str], *, overwrite: bool = False,
                option: str = "--out") -> Iterator[Path]:
    """Yield a staging path for one output file; it becomes ``out`` when the block succeeds."""
    target = check_out(out, overwrite=overwrite, kind="file", option=option)
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(target.parent, legacy_for=target.name)
    with atomic_path(target) as staging:
        yield staging
