"""What keeps one browser session from hurting the server or another session.

* :class:`UploadLimit` wraps the ASGI app and refuses an upload body over the limit (413) while it
  streams, whatever size the browser declared; Shiny itself has no limit.
* :class:`SessionFiles` is one session's private temporary folder (``mkdtemp``: mode 0700, a fresh
  random name). Uploads are copied into it under names dermsim chooses (the browser's file name
  only supplies a cleaned extension and stem); zips are unpacked member by member with the same
  cleaning, counted and size-checked, so no path a user typed is ever opened. The folder is removed
  when the session ends.

Text a user typed reaches the page only as htmltools children or attribute values, which are
escaped; nothing here builds HTML from strings.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from dermsim.errors import InvalidInputError

__all__ = ["MAX_UPLOAD_BYTES", "MAX_ZIP_MEMBERS", "SessionFiles", "UploadLimit"]

MAX_UPLOAD_BYTES = 200 * 2**20  # one upload request (one file); the CDISC pilot's largest is ~20 MB
MAX_UNZIPPED_BYTES = 1 * 2**30  # all members of one zip together
MAX_ZIP_MEMBERS = 200


def _mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**17 else f"{int(n)} bytes"


class UploadLimit:
    """ASGI middleware: an HTTP POST to a Shiny upload URL may carry at most ``max_bytes``."""

    def __init__(self, app: Any, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Mapping[str, Any], receive: Any, send: Any) -> None:
        if (
            scope.get("type") != "http"
            or scope.get("method") != "POST"
            or "/upload/" not in scope.get("path", "")
        ):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0

        async def limited() -> Any:
            nonlocal seen
            message = await receive()
            if message.get("type") == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # the upload handler sees a disconnect: it stops writing and the file is dropped
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, limited, send)

    async def _refuse(self, send: Any) -> None:
        body = f"upload refused: larger than {_mib(self.max_bytes)}".encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def clean_name(name: str, fallback: str) -> str:
    """A file name made only of letters, digits, '_', '-', '.' (no folders, no leading dot)."""
    base = _UNSAFE.sub("_", Path(str(name).replace("\\", "/")).name).strip("._")[:80]
    return base or fallback


class SessionFiles:
    """A private temporary folder for one session; everything the session reads or writes lives in it."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="dermsim-app-"))
        self._n = 0

    def new_dir(self, kind: str) -> Path:
        """A new empty folder inside the session's folder (one per upload or run)."""
        self._n += 1
        return Path(tempfile.mkdtemp(prefix=f"{kind}-{self._n}-", dir=self.root))

    def new_path(self, kind: str, suffix: str) -> Path:
        """A path (not yet existing) in a new folder, e.g. the output folder of a run."""
        return self.new_dir(kind) / f"{kind}{suffix}"

    def take_uploads(
        self, files: Iterable[Mapping[str, Any]], allowed: tuple[str, ...], kind: str, *, unzip: bool = False
    ) -> Path:
        """Copy Shiny's uploaded files into a new folder of this session and return the folder.

        ``allowed``: accepted endings (".xpt", ".csv.gz", ...). With ``unzip``, a ``.zip`` is unpacked
        (its members must have allowed endings too; folders inside are flattened)."""
        dest = self.new_dir(kind)
        taken = 0
        for i, info in enumerate(files):
            name = str(info.get("name", ""))
            src = Path(str(info.get("datapath", "")))
            size = src.stat().st_size if src.is_file() else -1
            if size < 0:
                raise InvalidInputError(
                    f"upload {name!r}: the file did not arrive completely; upload it again."
                )
            if size > MAX_UPLOAD_BYTES:
                raise InvalidInputError(
                    f"upload {name!r}: {_mib(size)} is more than the {_mib(MAX_UPLOAD_BYTES)} allowed."
                )
            lower = name.lower()
            if unzip and lower.endswith(".zip"):
                taken += self._unzip(src, name, dest, allowed)
                continue
            ending = next((e for e in allowed if lower.endswith(e)), None)
            if ending is None:
                raise InvalidInputError(
                    f"upload {name!r}: expected a file ending in {', '.join(allowed)}"
                    f"{' or .zip' if unzip else ''}."
                )
            stem = clean_name(name[: -len(ending)], f"file{i}")
            shutil.copyfile(src, self._unique(dest, stem, ending))
            taken += 1
        if taken == 0:
            raise InvalidInputError("upload: no file was received; choose one or more files.")
        return dest

    @staticmethod
    def _unique(dest: Path, stem: str, ending: str) -> Path:
        p = dest / f"{stem}{ending}"
        k = 1
        while p.exists():
            k += 1
            p = dest / f"{stem}_{k}{ending}"
        return p

    def _unzip(self, src: Path, name: str, dest: Path, allowed: tuple[str, ...]) -> int:
        try:
            zf = zipfile.ZipFile(src)
        except (zipfile.BadZipFile, OSError):
            raise InvalidInputError(f"upload {name!r}: not a readable zip file.") from None
        with zf:
            members = [
                m
                for m in zf.infolist()
                if not m.is_dir()
                and not Path(m.filename).name.startswith(".")
                and "__MACOSX" not in m.filename
            ]
            if len(members) > MAX_ZIP_MEMBERS:
                raise InvalidInputError(
                    f"upload {name!r}: {len(members)} files in the zip; at most {MAX_ZIP_MEMBERS} are read."
                )
            total = sum(m.file_size for m in members)
            if total > MAX_UNZIPPED_BYTES:
                raise InvalidInputError(
                    f"upload {name!r}: unpacks to {_mib(total)}, more than the "
                    f"{_mib(MAX_UNZIPPED_BYTES)} allowed."
                )
            n = 0
            for m in members:
                lower = m.filename.lower()
                ending = next((e for e in allowed if lower.endswith(e)), None)
                if ending is None:
                    continue  # define.xml, PDFs and the like beside the datasets
                stem = clean_name(Path(m.filename).name[: -len(ending)], f"member{n}")
                target = self._unique(dest, stem, ending)
                written = 0
                # copy in blocks and count: a member's declared size can lie
                with zf.open(m) as fin, open(target, "wb") as fout:
                    while block := fin.read(1 << 20):
                        written += len(block)
                        if written > MAX_UPLOAD_BYTES:
                            raise InvalidInputError(
                                f"upload {name!r}: member {m.filename!r} is larger "
                                f"than {_mib(MAX_UPLOAD_BYTES)}."
                            )
                        fout.write(block)
                n += 1
            if n == 0:
                raise InvalidInputError(
                    f"upload {name!r}: the zip holds no file ending in {', '.join(allowed)}."
                )
            return n

    def scrub(self, text: str) -> str:
        """``text`` with this session's private paths cut to the file name (an error message names
        the uploaded file, never the server's folders)."""
        return re.sub(re.escape(str(self.root)) + r"(/[^/\s]+)*/", "", text)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
