"""Reading a text file a person named (a settings file, a console script): the whole file at
once, or one line saying why it can't be read."""

from __future__ import annotations

from pathlib import Path


class UnreadableFile(ValueError):
    """The file is missing, a folder, unreadable or not UTF-8; the message says which."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def read_text(path: Path) -> str:
    """The file's text. A byte-order mark (Windows Notepad's "UTF-8 with BOM") is dropped, else
    the first line would not read as what it says (a command, a setting's name)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableFile(f"{str(path)!r} does not exist", missing=True) from None
    except IsADirectoryError:
        raise UnreadableFile(f"{str(path)!r} is a folder, not a file") from None
    except OSError as exc:
        raise UnreadableFile(f"{str(path)!r} cannot be read ({exc.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"{str(path)!r} is not UTF-8 text (byte {exc.start + 1} is not valid UTF-8); "
            "save it as UTF-8"
        ) from None
