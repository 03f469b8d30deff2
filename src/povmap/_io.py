"""Write files atomically: a failed run never leaves a half-written output file."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ._errors import PovmapInputError


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it onto ``target`` only on success.

    Parameters
    ----------
    target
        The final file path.
    suffix
        Suffix of the temporary file; defaults to the target's, because GDAL picks its driver by it.
    """
    target = Path(target)
    if target.is_dir():
        raise PovmapInputError(f"{target} adalah folder; tulis nama berkas, mis. {target}/"
                               f"hasil{suffix or '.html'}.",
                               en=f"{target} is a folder; give a file name, e.g. {target}/"
                                  f"result{suffix or '.html'}.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=suffix or target.suffix, dir=target.parent
        )
    except OSError as exc:
        raise PovmapInputError(
            f"{target}: folder {target.parent} tidak dapat ditulis ({exc.strerror}). "
            "Pilih folder lain untuk keluaran.",
            en=f"{target}: folder {target.parent} is not writable ({exc.strerror}). "
               "Choose another folder for the output."
        ) from exc
    os.close(fd)
    # GDAL refuses to create some formats over an existing (even empty) file.
    os.unlink(tmp)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(target: str | os.PathLike, text: str) -> None:
    """Write ``text`` as UTF-8 to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in chunks so large boundary files do not fill memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
