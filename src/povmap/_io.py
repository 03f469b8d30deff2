"""Write outputs all or nothing: a failed or interrupted run leaves every output as it was.

One mechanism serves every command (:func:`staged_outputs`): the files and folders a command
writes are declared before any work, checked against its inputs (:func:`check_outputs`) and
locked against a concurrent run; everything is written into hidden staging folders on the same
filesystem as its destination, then moved into place together, only when all of it is written.
A bundle folder is swapped in whole, so it is at any moment either the old bundle or the new one.
:func:`atomic_path` is the one-file form; inside a running :func:`staged_outputs` it joins it.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import ctypes.util
import errno
import gc
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ._errors import PovmapInputError, reason

try:  # POSIX; Windows locks with msvcrt below
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while a file is read into many new objects at once.

    Reading the national layer (83,403 geometries) and its table (83,403 rows, a list each) made
    Python walk every live object in a collection of its oldest generation, once each (0.05 s
    and 0.04 s). What a read makes holds no reference cycle, and its garbage is freed by
    reference counting all the same; the collector runs again as usual after the block (and
    stays off if it was off). Not a lock: another thread's collections wait for the block too.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield the path to write ``target`` at; it reaches ``target`` only if the run succeeds.

    Outside :func:`staged_outputs` this is a transaction of one file, committed when the block
    ends. Inside one, ``target`` joins it and is committed with the other outputs of the command.

    Parameters
    ----------
    target
        The final file path. The staged file has the same name (in a hidden folder beside it),
        so GDAL picks its driver by the suffix and names written inside the file (GeoJSON
        ``name``, manifest entries) are the final ones.

    Raises
    ------
    PovmapInputError
        ``target`` is a folder, its folder cannot be written, another povmap run writes it, or
        the disk is full.
    """
    with staged_outputs([target]) as outputs:
        path = outputs.path(target)
        # GDAL refuses to create some formats over an existing (even empty) file.
        if path.is_file():
            path.unlink()
        yield path


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
                found += [
                    p
                    for p in path.parent.iterdir()
                    if p.name.lower() in {stem + s for s in _SHAPEFILE_SIBLINGS}
                ]
        files += [p for p in found if p.is_file() and p not in files]
    return files


def check_outputs(
    files: Iterable[str | os.PathLike | None] = (),
    folders: Iterable[str | os.PathLike | None] = (),
    inputs: Iterable[str | os.PathLike | None] = (),
) -> None:
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
            raise PovmapInputError.from_catalogue(
                "io.input_file_writing_output", out=out, source=source
            )
        key = _resolved(out)
        if key in seen:
            raise PovmapInputError.from_catalogue(
                "io.same_output_file_would", out=out, seen=seen[key]
            )
        seen[key] = out
    for item in folders:
        if item is None:
            continue
        folder = _resolved(Path(item))
        for source in sources:
            inside = _resolved(source).is_relative_to(folder) or _linked_inside(source, folder)
            if inside:
                raise PovmapInputError.from_catalogue(
                    "io.output_folder_holds_input", item=item, source=source
                )


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


# --- outputs written all or nothing ----------------------------------------------------------

#: Marks povmap's own hidden entries: ``.NAME.povmap-stage-*``, ``-old-*``, ``-lock`` beside an
#: output, or ``.povmap-*`` inside an output folder that is a mount point.
_TAG = ".povmap-"
#: Files a folder may hold besides a bundle: version-control and file-manager markers, kept.
_MARKERS = frozenset({".gitkeep", ".gitignore", ".DS_Store", "Thumbs.db", "desktop.ini"})
#: A manifest is small; a larger JSON file is not read while looking for one.
_MANIFEST_MAX_BYTES = 10 << 20
_ACTIVE: contextvars.ContextVar[Outputs | None] = contextvars.ContextVar(
    "povmap_outputs", default=None
)


@contextlib.contextmanager
def staged_outputs(
    files: Iterable[str | os.PathLike | None] = (),
    folders: Iterable[str | os.PathLike | None] = (),
    *,
    inputs: Iterable[str | os.PathLike | None] = (),
) -> Iterator[Outputs]:
    """Write several files and folders all or nothing; the one way povmap writes outputs.

    On entry, before any work: the outputs are checked against the inputs
    (:func:`check_outputs`); each is locked against another povmap run; an output folder that
    holds files povmap did not write is refused (naming them); a hidden staging folder is made
    beside each output, on the same filesystem (inside the output folder when that folder is a
    mount point or its parent cannot be written). Staging folders and old outputs left by a run
    that was killed are cleaned up, an interrupted swap being undone first.

    In the block, write each output at :meth:`Outputs.path`. When the block ends without error,
    every staged file is flushed to disk and moved into place: a folder in one atomic swap
    (``renameat2(RENAME_EXCHANGE)`` where the system has it), then the old one is removed. If
    anything fails, whatever was moved is moved back and nothing of the run remains. A full disk
    is reported as such, naming the folder.

    Inside an active ``staged_outputs`` (a command that calls library writers), a nested call
    joins it: its outputs are committed together with the command's.

    Parameters
    ----------
    files
        Output files (``None`` entries are skipped). More may join later through
        :meth:`Outputs.path` or :func:`atomic_path`.
    folders
        Output folders, replaced whole (a bundle).
    inputs
        Files the command reads; no output may be or contain one.

    Yields
    ------
    Outputs
        Maps each output to the path to write it at; after a commit, :attr:`Outputs.removed`
        lists the files of an earlier bundle that this run did not write again.

    Raises
    ------
    PovmapInputError
        An output is an input, is locked by another run, holds foreign files, cannot be
        written, or the disk is full.
    """
    active = _ACTIVE.get()
    if active is not None:
        active.add(files, folders, inputs)
        yield active
        return
    outputs = Outputs()
    token = _ACTIVE.set(outputs)
    try:
        outputs.add(files, folders, inputs)
        yield outputs
        outputs.commit()
    except BaseException as exc:
        outputs.abort()
        if _disk_full(exc):
            raise outputs.disk_full() from exc
        raise
    finally:
        _ACTIVE.reset(token)
        outputs.release()


class Outputs:
    """The outputs of one run, staged and committed together (see :func:`staged_outputs`)."""

    def __init__(self) -> None:
        self._targets: list[_File | _Folder] = []
        self._inputs: list[str | os.PathLike] = []
        self._made: list[Path] = []
        #: Files of an earlier bundle that the committed run did not write again, now removed.
        self.removed: list[Path] = []

    def add(
        self,
        files: Iterable[str | os.PathLike | None] = (),
        folders: Iterable[str | os.PathLike | None] = (),
        inputs: Iterable[str | os.PathLike | None] = (),
    ) -> None:
        """Declare more outputs (and inputs): checked, locked and staged now."""
        new_files = [Path(f) for f in files if f is not None]
        new_folders = [Path(f) for f in folders if f is not None]
        new_inputs = [i for i in inputs if i is not None]
        check_outputs(new_files, new_folders, [*self._inputs, *new_inputs])
        check_outputs(
            [t.final for t in self._targets if isinstance(t, _File)],
            [t.final for t in self._targets if isinstance(t, _Folder)],
            new_inputs,
        )
        self._inputs += new_inputs
        kinds: list[tuple[Path, type[_File] | type[_Folder]]] = [
            *((f, _Folder) for f in new_folders),
            *((f, _File) for f in new_files),
        ]
        for path, kind in kinds:
            if self._find(_absolute(path)) is None:
                target = kind(_absolute(path), self._made)
                self._targets.append(target)
                target.open()

    def path(self, target: str | os.PathLike) -> Path:
        """Where to write ``target`` (a declared output, or a file in a declared folder) now.

        A file not declared yet joins the run here.
        """
        absolute = _absolute(Path(target))
        found = self._find(absolute)
        if found is None:
            self.add([absolute])
            found = self._find(absolute)
        assert found is not None  # add() has just declared it
        return found

    def _find(self, path: Path) -> Path | None:
        for target in self._targets:
            found = target.find(path)
            if found is not None:
                return found
        return None

    def commit(self) -> None:
        """Flush every staged file to disk, then move all outputs into place, or none."""
        for target in self._targets:
            _sync_tree(target.stage)
        try:
            for target in self._targets:
                target.commit()
        except BaseException:
            for target in reversed(self._targets):
                # Put back what can be put back, even if one target cannot be.
                with contextlib.suppress(OSError):
                    target.undo()
            raise
        for target in self._targets:
            self.removed += target.finish()
            _sync_dir(target.final.parent)
        self._made.clear()  # the folders made for the outputs now hold them

    def abort(self) -> None:
        """Remove every staged file; the outputs stay as they were."""
        for target in reversed(self._targets):
            target.discard()

    def release(self) -> None:
        """Unlock the outputs and remove folders made for them that stayed empty."""
        for target in reversed(self._targets):
            target.release()
        for folder in reversed(self._made):
            with contextlib.suppress(OSError):
                folder.rmdir()

    def disk_full(self) -> PovmapInputError:
        """The message for a disk that filled up while the outputs were written."""
        where = ", ".join(dict.fromkeys(str(t.home) for t in self._targets)) or "?"
        return PovmapInputError.from_catalogue("io.disk_full_space_left", where=where)


class _Target:
    """One output: its lock, its staging folder and the moves that commit or undo it."""

    final: Path
    home: Path
    prefix: str

    def __init__(self, final: Path, made: list[Path]) -> None:
        self.final = final
        self._made = made
        self._lock: int | None = None
        self.stage: Path | None = None

    def open(self) -> None:
        """Lock, clean up after a killed run, check and stage; before any work."""
        try:
            _make_dirs(self.home, self._made)
            self._lock = _acquire(self.home / f"{self.prefix}lock", self.final)
            self.recover()
            self.check()
            self.stage = Path(tempfile.mkdtemp(prefix=f"{self.prefix}stage-", dir=self.home))
        except OSError as exc:
            if _disk_full(exc):
                raise
            raise _unwritable(self.final, self.home, exc) from exc

    def stale(self, kind: str) -> list[Path]:
        """povmap's hidden entries of this output left by an earlier run (``stage``/``old``)."""
        with contextlib.suppress(OSError):
            return sorted(
                p
                for p in self.home.iterdir()
                if p.name.startswith(f"{self.prefix}{kind}-") and p != self.stage
            )
        return []

    @property
    def staged(self) -> Path:
        """The staging folder, made by :meth:`open`."""
        if self.stage is None:
            raise RuntimeError(f"{self.final}: staged before open()")
        return self.stage

    def discard(self) -> None:
        if self.stage is not None:
            shutil.rmtree(self.stage, ignore_errors=True)

    def release(self) -> None:
        if self._lock is not None:
            _release(self._lock, self.home / f"{self.prefix}lock")
            self._lock = None

    def check(self) -> None: ...

    def recover(self) -> None: ...


class _File(_Target):
    """An output file, staged under its own name in ``.NAME.povmap-stage-*`` beside it."""

    _OLD = f"{_TAG}old"

    def __init__(self, final: Path, made: list[Path]) -> None:
        super().__init__(final, made)
        self.home, self.prefix = final.parent, f".{final.name}{_TAG}"
        self._backup: Path | None = None
        self._done = False
        if final.is_dir():
            raise PovmapInputError.from_catalogue("io.folder_file_name_result", final=final)

    def find(self, path: Path) -> Path | None:
        if self.stage is None:
            return None
        if path == self.final:
            return self.stage / self.final.name
        if path.is_relative_to(self.stage):
            return path
        return None

    def recover(self) -> None:
        for stage in self.stale("stage"):
            # Killed between moving the old file aside and the new one in (no hard links).
            if not os.path.lexists(self.final) and (stage / self._OLD).exists():
                os.replace(stage / self._OLD, self.final)
            shutil.rmtree(stage, ignore_errors=True)

    def commit(self) -> None:
        staged = self.staged / self.final.name
        if not staged.exists():
            return  # declared, never written (e.g. an optional output)
        if os.path.lexists(self.final):
            backup = self.staged / self._OLD
            try:
                os.link(self.final, backup, follow_symlinks=False)
            except OSError:  # a filesystem without hard links (FAT on a USB stick)
                os.replace(self.final, backup)
            self._backup = backup
        os.replace(staged, self.final)
        self._done = True

    def undo(self) -> None:
        if self._backup is not None and self._backup.exists():
            os.replace(self._backup, self.final)
        elif self._done:
            os.unlink(self.final)
        self._backup, self._done = None, False

    def finish(self) -> list[Path]:
        self.discard()
        return []


class _Folder(_Target):
    """An output folder, built whole in a staging folder and swapped in.

    The staging folder lies beside it (``.NAME.povmap-stage-*`` in the parent), so one rename
    swaps it in. When the folder is a mount point (a USB stick, a network share), or its parent
    is on another filesystem or cannot be written, it is staged inside as ``.povmap-stage-*``
    and its content is swapped file by file, with a list of the moves so that a run killed
    half-way is undone by the next.
    """

    _NAMES = f"{_TAG}moves.json"

    def __init__(self, final: Path, made: list[Path]) -> None:
        super().__init__(final, made)
        if final.exists() and not final.is_dir():
            raise PovmapInputError.from_catalogue("io.exists_file_folder_name", final=final)
        self.inside = final.is_dir() and (
            os.path.ismount(final)
            or final.stat().st_dev != final.parent.stat().st_dev
            or not os.access(final.parent, os.W_OK | os.X_OK)
        )
        self.home, self.prefix = (
            (final, _TAG) if self.inside else (final.parent, f".{final.name}{_TAG}")
        )
        self._old: Path | None = None
        self._swapped = False
        self._previous: set[str] = set()

    def find(self, path: Path) -> Path | None:
        if self.stage is None:
            return None
        if path.is_relative_to(self.stage):
            return path
        if path.is_relative_to(self.final):
            return self.stage / path.relative_to(self.final)
        return None

    def _entries(self, folder: Path) -> list[str]:
        """Names in ``folder`` that belong to a bundle (not povmap's hidden ones, not markers)."""
        return sorted(
            name
            for name in os.listdir(folder)
            if not name.startswith(_TAG) and name not in _MARKERS
        )

    def check(self) -> None:
        if not self.final.is_dir():
            return
        present = self._entries(self.final)
        own = _povmap_files(self.final)
        foreign = [name for name in present if name not in own]
        if foreign:
            listed = ", ".join(foreign[:8]) + (
                f" … (+{len(foreign) - 8})" if len(foreign) > 8 else ""
            )
            raise PovmapInputError.from_catalogue(
                "io.output_folder_holds_files", final=self.final, listed=listed
            )
        self._previous = set(present)

    def recover(self) -> None:
        if self.inside:
            for old in self.stale("old"):
                self._restore_inside(old)
        else:
            leftovers = self.stale("old")
            # Killed between the two renames of a swap without RENAME_EXCHANGE.
            if not self.final.exists() and leftovers:
                os.rename(leftovers[-1], self.final)
        for kind in ("stage", "old", "trash"):
            for entry in self.stale(kind):
                shutil.rmtree(entry, ignore_errors=True)

    def commit(self) -> None:
        if self.inside:
            self._commit_inside()
            return
        # mkdtemp made the staging folder private (0700); the bundle gets the folder's usual mode.
        os.chmod(
            self.staged,
            self.final.stat().st_mode & 0o7777 if self.final.is_dir() else 0o777 & ~_umask(),
        )
        if self.final.is_dir():
            for marker in _MARKERS.intersection(os.listdir(self.final)):
                shutil.copy2(self.final / marker, self.staged / marker)
            if _exchange(self.staged, self.final):
                self._old = self.stage  # now holds the earlier bundle
            else:
                self._old = self.home / f"{self.prefix}old-{os.urandom(4).hex()}"
                os.rename(self.final, self._old)
                os.rename(self.staged, self.final)
        else:
            os.rename(self.staged, self.final)
        self._swapped = True

    def _commit_inside(self) -> None:
        new = self._entries(self.staged)
        self._old = Path(tempfile.mkdtemp(prefix=f"{self.prefix}old-", dir=self.home))
        moves = {"old": self._entries(self.final), "new": new}
        (self._old / self._NAMES).write_text(json.dumps(moves), encoding="utf-8")
        _sync_tree(self._old)
        for name in moves["old"]:
            os.rename(self.final / name, self._old / name)
        for name in new:
            os.rename(self.staged / name, self.final / name)
        self._swapped = True

    def _restore_inside(self, old: Path) -> None:
        """Undo an interrupted or failed content swap: the old files back, the new ones out."""
        try:
            moves = json.loads((old / self._NAMES).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            moves = {"old": [], "new": []}
        for name in moves["new"]:
            moved_in = name not in moves["old"] or (old / name).exists()
            if moved_in and os.path.lexists(self.final / name):
                _remove(self.final / name)
        for name in moves["old"]:
            if os.path.lexists(old / name):
                os.rename(old / name, self.final / name)
        shutil.rmtree(old, ignore_errors=True)

    def undo(self) -> None:
        if self.inside:
            if self._old is not None:
                self._restore_inside(self._old)
        elif self._swapped:
            if self._old == self.stage:
                _exchange(self.staged, self.final)
            elif self._old is None:
                os.rename(self.final, self.staged)
            else:
                os.rename(self.final, self.staged)
                os.rename(self._old, self.final)
        self._old, self._swapped = None, False

    def finish(self) -> list[Path]:
        if self._old is not None:
            # A rename first: a run killed while deleting must not find a half-deleted "old".
            trash = self.home / f"{self.prefix}trash-{os.urandom(4).hex()}"
            os.rename(self._old, trash)
            shutil.rmtree(trash, ignore_errors=True)
        self.discard()
        written = set(self._entries(self.final))
        return [self.final / name for name in sorted(self._previous - written)]


def _absolute(path: Path) -> Path:
    """``path`` absolute, with symbolic links resolved in its folder (a folder: in itself too)."""
    if path.is_dir() or path.name in ("", ".", ".."):
        return _resolved(path)
    return _resolved(path.parent) / path.name


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _povmap_files(folder: Path) -> set[str]:
    """Names in ``folder`` that povmap wrote: its manifests and the outputs they list."""
    own: set[str] = set()
    for path in folder.glob("*.json"):
        try:
            if path.stat().st_size > _MANIFEST_MAX_BYTES:
                continue
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "povmap" in data and isinstance(data.get("keluaran"), list):
            own.add(path.name)
            own.update(
                item["berkas"]
                for item in data["keluaran"]
                if isinstance(item, dict) and isinstance(item.get("berkas"), str)
            )
    return own


def _make_dirs(folder: Path, made: list[Path]) -> None:
    """Create ``folder`` and missing parents, noting each in ``made`` (removed on failure)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
        made.append(path)


def _acquire(lock: Path, output: Path) -> int:
    """Hold ``lock`` (created if missing) or raise: another run is writing ``output``."""
    for _ in range(10):
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:  # pragma: no cover - Windows
                import msvcrt

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            os.close(fd)
            raise PovmapInputError.from_catalogue(
                "io.being_written_another_povmap", output=output
            ) from None
        # The previous holder unlinks the file when it is done; a lock on an unlinked file
        # would not exclude the next run, so take it again.
        with contextlib.suppress(OSError):
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                return fd
        os.close(fd)
    raise PovmapInputError.from_catalogue("io.lock_cannot_taken", lock=lock)


def _release(fd: int, lock: Path) -> None:
    with contextlib.suppress(OSError):
        lock.unlink()
    os.close(fd)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2``); False where not supported."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # a filesystem that cannot exchange (FAT, some network shares)
    raise OSError(code, os.strerror(code), str(b))


_LIBC: list = []


def _renameat2():
    if not _LIBC:
        name = ctypes.util.find_library("c")
        try:
            _LIBC.append(
                getattr(ctypes.CDLL(name, use_errno=True), "renameat2", None) if name else None
            )
        except OSError:
            _LIBC.append(None)
    return _LIBC[0]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _sync_tree(root: Path | None) -> None:
    """Flush every file under ``root`` to disk, so a power cut cannot leave them empty."""
    if root is None or not root.exists():
        return
    for folder, _, names in os.walk(root):
        for name in names:
            with contextlib.suppress(OSError), open(os.path.join(folder, name), "rb") as f:
                os.fsync(f.fileno())
        _sync_dir(Path(folder))


def _sync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or its cause) says the disk is full; GDAL says so only in its text."""
    for error in (exc, exc.__cause__):
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if error is not None and os.strerror(errno.ENOSPC) in str(error):
            return True
    return False


def _unwritable(output: Path, folder: Path, exc: OSError) -> PovmapInputError:
    return PovmapInputError.from_catalogue(
        "io.folder_writable_choose_another",
        output=output,
        folder=folder,
        reason=reason(exc, writing=True),
    )
