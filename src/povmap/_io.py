"""Write files atomically: a failed run never leaves a half-written output file.

Outputs are also checked against the inputs before any work (:func:`check_outputs`), so that no
output ever replaces a file the run reads.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
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


#: Parts of a shapefile that belong to the ``.shp`` a user names (and that an output must not hit).
_SHAPEFILE_SIBLINGS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".shp.xml")


def input_files(inputs: Iterable[str | os.PathLike | None]) -> list[Path]:
    """The files behind ``inputs``: each existing input, and for a ``.shp`` its sibling parts.

    Parameters
    ----------
    inputs
        Paths the run reads (``None`` entries, e.g. an option not given, are skipped).

    Returns
    -------
    The existing files, in order, without duplicates.
    """
    files: list[Path] = []
    for item in inputs:
        if item is None:
            continue
        path = Path(item)
        found = [path]
        if path.suffix.lower() == ".shp":
            stem = path.name[: -len(path.suffix)].lower()
            with contextlib.suppress(OSError):
                found += [p for p in path.parent.iterdir()
                          if p.name.lower() in {stem + s for s in _SHAPEFILE_SIBLINGS}]
        files += [p for p in found if p.is_file() and p not in files]
    return files


def check_outputs(files: Iterable[str | os.PathLike | None] = (),
                  folders: Iterable[str | os.PathLike | None] = (),
                  inputs: Iterable[str | os.PathLike | None] = ()) -> None:
    """Refuse outputs that would replace an input, or each other, before any work is done.

    An output file is refused when it is an input under another name (a relative path, a
    symbolic or a hard link: compared by file identity, not by name), or when two outputs are
    the same file. An output folder is replaced whole, so it is refused when any input lies in
    it.

    Parameters
    ----------
    files
        Output files the command will write (``None`` entries are skipped).
    folders
        Output folders the command will replace.
    inputs
        Files the command reads; a ``.shp`` brings its ``.dbf``, ``.shx``, ``.prj`` and other parts.

    Raises
    ------
    PovmapInputError
        Naming the output and the input it would overwrite.
    """
    sources = input_files(inputs)
    identities = {_identity(p): p for p in sources}
    seen: dict[Path, Path] = {}
    for item in files:
        if item is None:
            continue
        out = Path(item)
        source = identities.get(_identity(out))
        if source is not None:
            raise PovmapInputError(
                f"{out} adalah berkas masukan ({source}); menulis keluaran ke sana akan "
                "menimpanya. Pilih nama keluaran lain.",
                en=f"{out} is an input file ({source}); writing the output there would "
                   "overwrite it. Choose another output name.")
        key = _resolved(out)
        if key in seen:
            raise PovmapInputError(
                f"{out} dan {seen[key]} adalah berkas keluaran yang sama; yang satu akan "
                "menimpa yang lain. Beri nama yang berbeda.",
                en=f"{out} and {seen[key]} are the same output file; one would overwrite the "
                   "other. Give them different names.")
        seen[key] = out
    for item in folders:
        if item is None:
            continue
        folder = _resolved(Path(item))
        for source in sources:
            inside = _resolved(source).is_relative_to(folder) or _linked_inside(source, folder)
            if inside:
                raise PovmapInputError(
                    f"Folder keluaran {item} berisi berkas masukan {source}; folder itu diganti "
                    "seluruhnya oleh keluaran baru. Pilih folder keluaran lain, atau pindahkan "
                    "masukannya dulu.",
                    en=f"The output folder {item} holds the input file {source}; the folder is "
                       "replaced whole by the new output. Choose another output folder, or move "
                       "the input first.")


def _resolved(path: Path) -> Path:
    """``path`` made absolute with symbolic links resolved (also when it does not exist yet)."""
    return Path(os.path.realpath(path))


def _identity(path: Path) -> tuple[int, int] | Path:
    """What makes two paths the same file: device and inode when it exists, else its real path."""
    try:
        st = path.stat()
    except OSError:
        return _resolved(path)
    return (st.st_dev, st.st_ino)


def _linked_inside(source: Path, folder: Path) -> bool:
    """Whether a hard link of ``source`` lies anywhere in ``folder``."""
    target = _identity(source)
    if not folder.is_dir() or not isinstance(target, tuple) or source.stat().st_nlink < 2:
        return False
    for root, _, names in os.walk(folder):
        if any(_identity(Path(root, name)) == target for name in names):
            return True
    return False
