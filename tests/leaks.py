"""No log line may carry a secret: what the tests register, what the servers log, the check.

The suite makes secrets as it goes (passwords, client secrets, access and refresh tokens,
carrier auth tokens, notification channel ids) and registers each where it is made: the
organisation factory (tests/orgs.py), the demo credentials of the `parley serve` processes
(tests/servers.py) and the fixtures that make the others. Every log line of the session is
kept: the records of the in-process servers (a handler on the root logger, at INFO, the level
a deployment runs at) and the log files of the `parley serve` processes. At the end of the
session (tests/conftest.py) any registered secret found in any line fails the run. Under
pytest-xdist each worker is a process of its own, with its own registry and lines, and checks
its own.

A line is split into runs of URL-safe characters, the alphabet of every secret Parley makes,
and each run is looked up: a secret logged inside other text is found, a secret inside a
longer run of the same characters (which would have to be a different value) is not. Secrets
of other characters are searched for as plain substrings. A value shorter than
`MIN_SECRET` cannot be told from ordinary text and is not registered.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

MIN_SECRET = 8
_RUN = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Leak:
    what: str
    """the secret's description, e.g. 'password of admin-1a2b@test.parley'"""
    where: str
    """'logger parley.api.errors' or 'FILE:LINE'"""
    line: str


def find_leaks(secrets: Mapping[str, str], lines: Iterable[tuple[str, str]]) -> list[Leak]:
    """Every (where, line) that contains one of `secrets` (value -> what it is)."""
    plain = {v: w for v, w in secrets.items() if _RUN.fullmatch(v)}
    other = {v: w for v, w in secrets.items() if v not in plain}
    found: list[Leak] = []
    for where, line in lines:
        for run in _RUN.findall(line):
            if run in plain:
                found.append(Leak(plain[run], where, line))
        for value, what in other.items():
            if value in line:
                found.append(Leak(what, where, line))
    return found


class _Recorder(logging.Handler):
    def __init__(self, into: list[tuple[str, str]]) -> None:
        super().__init__(logging.INFO)
        self._into = into
        self._formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken format string is still logged text
            text = f"{record.msg!r} % {record.args!r}"
        if record.exc_info:
            text += "\n" + self._formatter.formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + record.stack_info
        self._into.append((f"logger {record.name}", text))


@dataclass
class SecretLog:
    """The secrets registered and the lines seen, for one process's session."""

    secrets: dict[str, str] = field(default_factory=dict)
    lines: list[tuple[str, str]] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.handler: logging.Handler = _Recorder(self.lines)

    def secret(self, value: str | None, what: str) -> None:
        if value and len(value) >= MIN_SECRET:
            self.secrets.setdefault(value, what)

    def file(self, path: Path) -> None:
        """A log file to read at the end (a server process's)."""
        self.files.append(path)

    def _file_lines(self) -> Iterable[tuple[str, str]]:
        for path in self.files:
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            for number, line in enumerate(text.splitlines(), 1):
                yield f"{path}:{number}", line

    def leaks(self) -> list[Leak]:
        return find_leaks(self.secrets, [*self.lines, *self._file_lines()])

    def report(self, leaks: list[Leak], limit: int = 20) -> str:
        shown = "\n".join(f"- {k.what} in {k.where}: {k.line[:300]}" for k in leaks[:limit])
        more = f"\n(and {len(leaks) - limit} more)" if len(leaks) > limit else ""
        return (f"{len(leaks)} log line(s) carry a secret ({len(self.secrets)} secrets, "
                f"{len(self.lines)} records and {len(self.files)} server logs checked):\n"
                f"{shown}{more}")


LOGS = SecretLog()
"""This process's registry and lines; tests/conftest.py installs its handler and checks it."""


def secret(value: str | None, what: str) -> None:
    """Register a secret the test made: it must never appear in a log line."""
    LOGS.secret(value, what)
