"""Files written whole: a temporary file beside the target, renamed over it when complete."""

from __future__ import annotations

import os
import stat
import tempfile


def temp_beside(path: str, suffix: str) -> tuple[int, str]:
    """``(fd, name)`` of a new file in ``path``'s folder, with the permissions ``path`` will
    keep: an existing file's own, else those of a newly created file (0666 less the umask),
    not mkstemp's owner-only 0600."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=suffix, dir=folder)
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        os.chmod(tmp, mode)
    except OSError:  # a file system without modes: keep what it gives
        pass
    return fd, tmp
