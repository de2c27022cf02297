"""The one atomic file writer of tfapprox: every file the toolkit writes goes through it.

Model files (:func:`tfapprox.verify.model_file.save_spec`), report pages and JSON results
(:mod:`tfapprox.verify.registry`, :mod:`tfapprox.verify.report`), plots (``verify
--plot``) and ``tfapprox eval --out`` all call :func:`write_atomic`.  Its rules
(documented in ``docs/guarantees.md``, section "File safety"):

* **All or nothing.**  The content is written to a new temporary file in the target's
  directory, flushed and ``fsync``-ed, then moved over the target with ``os.replace``
  and the directory is ``fsync``-ed.  A reader sees either the old file or the complete
  new one; if anything fails (an exception in the producer of the content, a full disk,
  ``SIGINT``/``SIGTERM``), the target keeps its old content and the temporary file is
  removed.
* **Private files.**  The temporary file is created with mode ``0o600``; the kernel
  removes the bits of the process umask, like any Unix tool.  Because the file *replaces*
  the target, an existing ``0o644`` target becomes ``0o600`` (minus the umask) as well:
  results and weights are never made readable by others behind the user's back.
* **Signals.**  While a write is in progress in the main thread, ``SIGTERM`` and
  ``SIGINT`` handlers remove the temporary file before the signal takes its usual
  effect (the process still terminates, or ``KeyboardInterrupt`` is still raised).
* **Short temporary names.**  The temporary file is ``.tfa-XXXXXXXX.tmp`` (17
  characters) whatever the target's name, so a target whose name uses the whole 255
  bytes a file system allows can be written.
* **Clear errors.**  An empty path, a path naming a directory or a missing parent
  directory raise ``ValueError`` / ``OSError`` whose message names the path, before
  anything is created.

Examples
--------
>>> import os, stat, tempfile
>>> from tfapprox.verify.atomic import write_atomic
>>> folder = tempfile.mkdtemp()
>>> path = write_atomic(os.path.join(folder, "out.txt"), "1.5\\n")
>>> open(path).read()
'1.5\\n'
>>> stat.S_IMODE(os.stat(path).st_mode) & 0o077  # no bits for group and others
0
>>> sorted(os.listdir(folder))
['out.txt']
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
from pathlib import Path
from typing import Any, Iterable

__all__ = ["write_atomic", "check_target", "FILE_MODE", "TEMP_PREFIX", "TEMP_SUFFIX"]

#: Mode of every file written (before the umask is applied by the kernel).
FILE_MODE = 0o600
#: Temporary files are named ``TEMP_PREFIX + 8 hex digits + TEMP_SUFFIX`` in the target's folder.
TEMP_PREFIX = ".tfa-"
#: The suffix of a temporary file (see :data:`TEMP_PREFIX`).
TEMP_SUFFIX = ".tmp"

_SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGINT", None)) if s is not None)
_active: set[str] = set()  # temporary files being written (removed by the signal handler)


def check_target(path: Any, name: str = "path") -> Path:
    """Validate an output path before anything is written; return it as a ``Path``.

    Raises
    ------
    TypeError
        ``path`` is not a string or ``os.PathLike``.
    ValueError
        ``path`` is empty, names an existing directory, or ends with a path separator.
    FileNotFoundError
        The parent directory does not exist (the message names it).
    NotADirectoryError
        The parent is not a directory.
    """
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path (str or os.PathLike), got {type(path).__name__}")
    text = os.fspath(path)
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a text file path, got {text!r}")
    if text == "" or text.strip() == "":
        raise ValueError(f"{name} must name a file, got an empty path {text!r}")
    if "\x00" in text:
        raise ValueError(f"{name} must not contain a NUL character, got {text!r}")
    if text.endswith(("/", os.sep)) or os.path.isdir(text):
        raise ValueError(f"{name} {text!r} is a directory; give a file name")
    target = Path(text)
    parent = target.parent
    if not parent.exists():
        raise FileNotFoundError(f"{name} {text!r}: the directory {str(parent)!r} does not exist")
    if not parent.is_dir():
        raise NotADirectoryError(f"{name} {text!r}: {str(parent)!r} is not a directory")
    return target


def _handler(signum: int, frame: Any) -> None:
    previous = _previous.get(signum, signal.SIG_DFL)
    if previous is signal.SIG_IGN:
        return
    for tmp in list(_active):
        try:
            os.unlink(tmp)
        except OSError:
            pass
    if callable(previous):
        previous(signum, frame)  # e.g. default_int_handler raises KeyboardInterrupt
        return
    # default action (terminate): restore it and deliver the signal again
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


_previous: dict[int, Any] = {}
_depth = 0


class _SignalGuard:
    """Install the cleanup handlers for the duration of a write (main thread only)."""

    def __enter__(self) -> "_SignalGuard":
        global _depth
        self.installed = threading.current_thread() is threading.main_thread()
        if self.installed:
            if _depth == 0:
                for s in _SIGNALS:
                    try:
                        _previous[s] = signal.signal(s, _handler)
                    except (ValueError, OSError):  # pragma: no cover - e.g. embedded interpreters
                        pass
            _depth += 1
        return self

    def __exit__(self, *exc: Any) -> None:
        global _depth
        if self.installed:
            _depth -= 1
            if _depth == 0:
                for s, prev in list(_previous.items()):
                    try:
                        signal.signal(s, prev if prev is not None else signal.SIG_DFL)
                    except (ValueError, OSError):  # pragma: no cover
                        pass
                _previous.clear()


def _chunks(data: Any) -> Iterable[bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield bytes(data)
        return
    if isinstance(data, str):
        yield data.encode("utf-8")
        return
    for chunk in data:
        if isinstance(chunk, str):
            yield chunk.encode("utf-8")
        elif isinstance(chunk, (bytes, bytearray, memoryview)):
            yield bytes(chunk)
        else:
            raise TypeError(f"write_atomic: content chunks must be str or bytes, got {type(chunk).__name__}")


def _fsync_directory(directory: Path) -> None:
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def write_atomic(path: Any, data: str | bytes | Iterable[str | bytes], *, name: str = "path",
                 make_parents: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically with mode ``0o600`` (minus the umask).

    Parameters
    ----------
    path
        Target file (``str`` or ``os.PathLike``).
    data
        The content: ``str`` (written as UTF-8), ``bytes``, or an iterable of ``str`` /
        ``bytes`` chunks (consumed while writing, so a large document is never held
        twice; an exception raised by the iterable aborts the write cleanly).
    name
        How errors name the path (e.g. ``"--out"``).
    make_parents
        Create missing parent directories first (report folders).

    Returns
    -------
    pathlib.Path
        The target path.

    Raises
    ------
    ValueError, TypeError, OSError
        See :func:`check_target`; any error while writing is re-raised after the
        temporary file has been removed and the target left as it was.
    """
    if make_parents and isinstance(path, (str, os.PathLike)) and os.fspath(path) not in ("", b""):
        Path(os.fspath(path)).parent.mkdir(parents=True, exist_ok=True)
    target = check_target(path, name)
    directory = target.parent
    with _SignalGuard():
        tmp = None
        for _ in range(16):
            candidate = str(directory / f"{TEMP_PREFIX}{secrets.token_hex(4)}{TEMP_SUFFIX}")
            _active.add(candidate)  # before it exists: a signal right after os.open still removes it
            try:
                fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                             FILE_MODE)
            except FileExistsError:
                _active.discard(candidate)
                continue
            except BaseException:
                _active.discard(candidate)
                raise
            tmp = candidate
            break
        if tmp is None:  # pragma: no cover - 16 collisions of 32 random bits
            raise FileExistsError(f"{name} {os.fspath(target)!r}: could not create a temporary file in "
                                  f"{str(directory)!r}")
        try:
            with os.fdopen(fd, "wb") as fh:
                fd = -1  # owned by fh now
                for chunk in _chunks(data):
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            if fd >= 0:
                os.close(fd)
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        finally:
            _active.discard(tmp)
    _fsync_directory(directory)
    return target
