"""Files read bounded, and files written whole.

* :func:`read_text` reads the text a user gives (a spec, a foreign config, standard input)
  from a path or an open file, never more than ``limit + 1`` bytes (characters for a text
  stream), whatever the source is: a regular file, a device such as ``/dev/zero``, a pipe.
* :func:`atomic_path` / :func:`atomic_open` write a file through a temporary file beside its
  final target (a symlink is followed: the link stays, its target is replaced), renamed over
  it only when complete. The temporary file is removed on any exception and on SIGTERM,
  SIGHUP or SIGINT arriving while writing (a handler installed for the write only, in the
  main thread, that hands the signal on to the handler it replaced).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, Any

#: The most text :func:`read_text` reads by default (bytes; characters for a text stream).
MAX_TEXT_BYTES = 1_000_000

__all__ = ["MAX_TEXT_BYTES", "read_text", "atomic_path", "atomic_open", "temp_beside"]


# -- reading ----------------------------------------------------------------------------------------
def _short(value: Any) -> str:
    from ._check import show

    return show(value)


def read_text(source: Any, what: str = "file", limit: int = MAX_TEXT_BYTES) -> str:
    """The UTF-8 text of ``source``, read bounded: at most ``limit + 1`` bytes are ever read.

    ``source`` is a path (``str`` or ``os.PathLike``) or an open file (binary, or text: then
    ``limit`` counts characters), e.g. ``sys.stdin.buffer``. ``what`` names the source in
    messages (``"spec file"``, ``"--config"``). A source longer than ``limit``, a folder, a
    path that cannot be opened, a named pipe nobody writes to, text that is not UTF-8 or
    holds NUL characters (a binary file): ``ValueError`` naming ``what``, the source and,
    for the size, the limit. A pipe or device is read as it comes (``/dev/zero``: refused
    after ``limit + 1`` bytes); a named pipe with no writer is not waited for.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"limit must be a whole number of bytes >= 0, got {_short(limit)}")
    if isinstance(source, (str, bytes, os.PathLike)):
        path = os.fsdecode(os.fspath(source))
        name = f"{what} {_short(path)}"
        data, fifo = _read_path(path, name, limit)
        if fifo and not data:
            raise ValueError(
                f"{name} is a named pipe with nothing written to it (lrkit does not wait for a "
                "writer): write to it first, or give a file"
            )
    elif callable(getattr(source, "read", None)):
        name = what
        try:
            data = source.read(limit + 1)
        except (OSError, ValueError) as e:  # closed, not readable, a decoding error of a text stream
            raise ValueError(f"cannot read {name}: {_reason(e)}") from None
        if data is None:  # a non-blocking stream with nothing available yet
            data = b""
        if not isinstance(data, (str, bytes, bytearray)):
            raise ValueError(f"{name} gave {type(data).__name__}, not text or bytes")
    else:
        raise ValueError(f"{what} must be a path or an open file, got {_short(source)} ({type(source).__name__})")
    unit = "characters" if isinstance(data, str) else "bytes"
    if len(data) > limit:
        raise ValueError(
            f"{name} holds more than {limit:,} {unit}; lrkit reads at most {limit:,} {unit} "
            "(a spec or config is a few kB)"
        )
    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ValueError(f"{name} is not UTF-8 text (byte {data[e.start]:#04x} at offset {e.start:,})") from None
    else:
        text = data[1:] if data.startswith("\ufeff") else data  # a byte-order mark is not text
    if "\x00" in text:
        raise ValueError(f"{name} is a binary file (it holds NUL characters), not text")
    return text


def _reason(e: BaseException) -> str:
    return (e.strerror if isinstance(e, OSError) and e.strerror else str(e)) or type(e).__name__


def _read_path(path: str, name: str, limit: int) -> tuple[bytes, bool]:
    """The first ``limit + 1`` bytes of the file at ``path``, and whether it is a named pipe."""
    try:
        # O_NONBLOCK: opening a named pipe does not wait for a writer (no effect on a regular file)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise ValueError(f"{name} is a folder, not a file") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise ValueError(f"{name} is a symlink loop: it never reaches a file") from None
        raise ValueError(f"cannot read {name}: {_reason(e)}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ValueError(f"{name} is a folder, not a file")
        if stat.S_ISREG(st.st_mode) and st.st_size > limit:  # said before reading, with its size
            raise ValueError(
                f"{name} is {st.st_size:,} bytes; lrkit reads at most {limit:,} bytes (a spec or config is a few kB)"
            )
        if hasattr(os, "O_NONBLOCK"):
            import fcntl

            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks), stat.S_ISFIFO(st.st_mode)
    except OSError as e:
        raise ValueError(f"cannot read {name}: {_reason(e)}") from None
    finally:
        os.close(fd)


# -- writing ----------------------------------------------------------------------------------------
def _umask() -> int:
    try:  # Linux says it without changing it (os.umask would, for an instant, for every thread)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def _target(path: str, what: str) -> str | None:
    """The file a write to ``path`` replaces (symlinks followed), or ``None`` when ``path`` is an
    existing device or pipe (``/dev/null``), which is written directly."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise ValueError(f"{what} {_short(path)} is a symlink loop: it never reaches a file") from None
        if e.errno == errno.ENOTDIR:
            raise ValueError(f"cannot write {what} {_short(path)}: a part of the path is not a folder") from None
        raise ValueError(f"cannot write {what} {_short(path)}: {_reason(e)}") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise ValueError(f"{what} {_short(path)} is a folder; give a file name")
        if not stat.S_ISREG(st.st_mode):
            return None
    real = os.path.realpath(path)
    if os.path.islink(real):
        raise ValueError(f"{what} {_short(path)} is a symlink loop: it never reaches a file")
    folder = os.path.dirname(real)
    try:
        fst = os.stat(folder)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise ValueError(f"{what} {_short(path)} is a symlink loop: it never reaches a file") from None
        if e.errno == errno.ENOENT:
            raise ValueError(
                f"cannot write {what} {_short(path)}: No such file or directory (the folder "
                f"{_short(folder)} does not exist)"
            ) from None
        raise ValueError(f"cannot write {what} {_short(path)}: {_reason(e)}") from None
    if not stat.S_ISDIR(fst.st_mode):
        raise ValueError(f"cannot write {what} {_short(path)}: {_short(folder)} is not a folder")
    return real


def temp_beside(path: str, suffix: str) -> tuple[int, str]:
    """``(fd, name)`` of a new file in ``path``'s folder, with the permissions ``path`` will
    keep: an existing file's own, else those of a newly created file (0666 less the umask),
    not mkstemp's owner-only 0600. ``path`` is the final file (symlinks already followed)."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=suffix, dir=folder)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    try:
        os.chmod(tmp, mode)
    except OSError:  # a file system without modes: keep what it gives
        pass
    return fd, tmp


# Temporary files being written, removed if a termination signal ends the process.
_PENDING: set[str] = set()
_LOCK = threading.RLock()
_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, n))
_saved: dict[int, Any] = {}  # the handlers ours replaced, while installed
_depth = 0  # nested writes in the main thread


def _remove_pending() -> None:
    with _LOCK:
        for tmp in list(_PENDING):
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        _PENDING.clear()


def _on_signal(signum: int, frame: Any) -> None:
    previous = _saved.get(signum, signal.SIG_DFL)
    if previous == signal.SIG_IGN:
        return
    if callable(previous):
        # Python's own SIGINT handler raises KeyboardInterrupt, a program's may raise SystemExit:
        # the write's own clean-up removes the file then; a handler that returns lets it go on
        previous(signum, frame)
        return
    # the default action ends the process: remove the files first, then end it as the signal would
    _remove_pending()
    _restore()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install() -> bool:
    """Our handler for the termination signals (main thread only); whether it was installed."""
    global _depth
    if threading.current_thread() is not threading.main_thread():
        return False
    with _LOCK:
        if _depth == 0:
            for sig in _SIGNALS:
                try:
                    previous = signal.getsignal(sig)
                    if previous is None:  # set outside Python: cannot be handed on, leave it
                        continue
                    signal.signal(sig, _on_signal)
                    _saved[sig] = previous
                except (ValueError, OSError):  # pragma: no cover - an embedded interpreter
                    continue
        _depth += 1
    return True


def _uninstall() -> None:
    global _depth
    with _LOCK:
        _depth -= 1
        if _depth == 0:
            _restore()


def _restore() -> None:
    for sig, previous in list(_saved.items()):
        with contextlib.suppress(ValueError, OSError):
            if signal.getsignal(sig) is _on_signal:
                signal.signal(sig, previous)
    _saved.clear()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = ".tmp", what: str = "output file") -> Iterator[str]:
    """A temporary file name to write, renamed over ``path`` when the block ends without error.

    ``path`` may be a symlink: its final target is replaced (atomically, in the target's
    folder) and the link kept; a dangling link's target is created; a symlink loop, a folder
    or a missing folder is a ``ValueError``. An existing device or pipe (``/dev/null``) is
    written directly (its own name is yielded). The new file has the replaced file's mode, or
    a new file's (0666 less the umask). On an exception, or SIGTERM/SIGHUP/SIGINT while in the
    block, the temporary file is removed and an existing target is left as it was.
    """
    path = os.fspath(path)
    real = _target(path, what)
    if real is None:
        yield path
        return
    handled = _install()
    try:
        try:
            fd, tmp = temp_beside(real, suffix)
        except OSError as e:
            raise ValueError(f"cannot write {what} {_short(path)}: {_reason(e)}") from None
        with _LOCK:
            _PENDING.add(tmp)
        os.close(fd)
        try:
            yield tmp
            os.replace(tmp, real)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        finally:
            with _LOCK:
                _PENDING.discard(tmp)
    finally:
        if handled:
            _uninstall()


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike[str], mode: str = "w", what: str = "output file", **kwargs: Any
) -> Iterator[IO[Any]]:
    """:func:`atomic_path`, opened: a file object (``open(tmp, mode, **kwargs)``) whose content
    replaces ``path`` when the block ends without error."""
    if mode not in ("w", "wt", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {_short(mode)}")
    with atomic_path(path, what=what) as tmp:
        with open(tmp, mode, **kwargs) as fh:
            yield fh
