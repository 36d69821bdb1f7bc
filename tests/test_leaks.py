"""The check that no log line carries a secret can fail: a secret logged on purpose, in a
record or in a server's log file, is reported; the session's own recorder is in place."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from tests.leaks import LOGS, Leak, SecretLog, find_leaks


def probe_logger(watch: SecretLog) -> logging.Logger:
    """A logger that reaches only `watch`: what it logs must not fail the real session."""
    logger = logging.getLogger(f"tests.leak-probe.{secrets.token_hex(4)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(watch.handler)
    return logger


def test_a_secret_in_a_record_is_reported() -> None:
    watch = SecretLog()
    password = secrets.token_urlsafe(12)
    token = secrets.token_urlsafe(32)
    watch.secret(password, "password of ana@x.example")
    watch.secret(token, "refresh token of ana@x.example")
    log = probe_logger(watch)

    log.info("user %s signed in", "ana@x.example")
    log.warning("login failed: password=%r", password)
    try:
        raise ValueError(f"[parameters: ('{token}',)]")
    except ValueError:
        log.exception("write failed")

    leaks = watch.leaks()
    assert [(k.what, k.where) for k in leaks] == [
        ("password of ana@x.example", f"logger {log.name}"),
        ("refresh token of ana@x.example", f"logger {log.name}")]
    assert "ValueError" in leaks[1].line, "the traceback is part of the line"
    assert "2 log line(s) carry a secret" in watch.report(leaks)


def test_a_secret_in_a_server_log_file_is_reported(tmp_path: Path) -> None:
    watch = SecretLog()
    channel = secrets.token_hex(16)
    watch.secret(channel, "notification channel id")
    server_log = tmp_path / "serve-0.log"
    server_log.write_text(f"INFO started\nWARNING socket for channel {channel} closed\n")
    watch.file(server_log)
    watch.file(tmp_path / "never-written.log")
    assert watch.leaks() == [Leak("notification channel id", f"{server_log}:2",
                                  f"WARNING socket for channel {channel} closed")]


def test_only_whole_values_count_and_short_ones_are_not_registered() -> None:
    value = "Abc123_-xyz"
    leaks = find_leaks({value: "a secret", "pass word 1": "a password with spaces"}, [
        ("a", f"token={value}&x=1"),           # found: delimited
        ("b", f"token=Z{value}"),              # another value that contains it
        ("c", f"Bearer {value[:-1]}"),         # a prefix is not the secret
        ("d", "the pass word 1 was wrong"),    # other characters: a substring search
    ])
    assert [k.where for k in leaks] == ["a", "d"]
    watch = SecretLog()
    watch.secret("x", "too short to tell from text")
    watch.secret(None, "nothing")
    assert watch.secrets == {}


def test_the_session_records_every_line() -> None:
    """The recorder is on the root logger for the whole session (tests/conftest.py)."""
    marker = secrets.token_hex(8)
    logging.getLogger("parley.some.module").info("marker %s", marker)
    assert ("logger parley.some.module", f"marker {marker}") in LOGS.lines
