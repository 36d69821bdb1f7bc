"""One SMPP 3.4 bind: aiosmpplib's ESME, with what Parley needs that it does not do right.

aiosmpplib 0.7.4 (pinned) gives us the PDU codec (submit_sm, deliver_sm and their encodings,
receipt parsing), the bind, the enquire_link keeper, the send loop and the reconnect loop.
`Session` subclasses its `ESME` and replaces what was measured to fail
(shared/reference/smpp-peers.md); each fault has a test in tests/carriers/test_smpp_session.py:

1. **SAR splitting is broken** (`auto_message_payload=False` without UDHI raises, or sends stale
   UCS-2 bytes with data_coding 0) and its UDH splitter counts characters, not GSM-7 septets.
   The library never splits here: `carriers/smpp.py` cuts texts by the domain's text rules and
   hands over finished parts (UDH bytes, SAR TLVs or message_payload).
2. **The correlator rescans every stored request on every put and get** (0.7k submits/s with
   5,000 queued). Requests are matched here by sequence number in a dict, registered in the
   `sending` hook - before the bytes are written, so a fast response cannot beat the
   registration, which the library's own correlator (registered after `drain()`) allows.
   Receipts are matched by the store, by message id, through an index.
3. **A rejected bind surfaces as `ValueError('subsection not found')`**, losing the status.
   `connect()` reads the bind response header itself and raises `BindRejected` with the
   status, which the connection's state shows ("bind rejected: ESME_RINVPASWD").
4. **There is no send window**: the send loop drains the whole queue. `_WindowBroker` hands
   the loop a request only while fewer than `window` are unanswered.
5. **deliver_sm is acknowledged as soon as the library parsed it**, before the application
   stored it, and one at a time. Here each deliver_sm is handled in its own task and answered
   only after Parley made it durable (or refused it): pipelined, and nothing acknowledged is
   lost. Texts from one sender to one number stay in order.
6. **A command_status the enum does not know (vendor codes 0x400-0x4FF) raises in header
   parsing and kills the session.** The receive loop reads headers as plain integers.
7. **16-bit UDH concatenation references are read as 32 bits** (they swallow the part count
   and sequence number), so parts of one text look like different texts. Fixed up in
   `concatenation_of`.
8. **No TLS**: `connect()` opens the socket with an SSL context when the connection asks.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from struct import unpack

from aiosmpplib import (
    ESME,
    AbstractBroker,
    AbstractCorrelator,
    AbstractHook,
    AbstractRetryTimer,
    AbstractThrottleHandler,
    BindMode,
    DeliverSm,
    DeliverSmResp,
    EnquireLinkResp,
    GenericNack,
    PduHeader,
    SmppCommand,
    SmppCommandStatus,
    SmppError,
    SmppMessage,
    SmppSessionState,
    SubmitSm,
    UnbindResp,
)
from aiosmpplib.protocol import MESSAGE_TYPE_MAP, PDU_HEADER_LENGTH
from aiosmpplib.state import (
    SAR_MSG_REF_NUM,
    SAR_SEGMENT_SEQNUM,
    SAR_TOTAL_SEGMENTS,
)

from parley.carriers.gsm7 import CODECS as GSM7_CODECS
from parley.domain.carriers import LinkState
from parley.services.ports.carriers import BindStatus
from parley.services.ports.clock import Clock

log = logging.getLogger("parley.carriers.smpp")

MAX_PDU = 2**16 + 1024
ESME_ROK = 0x00
ESME_RINVCMDID = 0x03
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58

DeliverHandler = Callable[[DeliverSm], Awaitable[int]]
"""Handles one deliver_sm and returns the command_status to answer it with."""


def status_name(status: int) -> str:
    try:
        return f"{SmppCommandStatus(status).name} (0x{status:08X})"
    except ValueError:
        return f"0x{status:08X}"


class BindRejected(SmppError):
    """The SMSC answered our bind with an error status (workaround 3)."""

    def __init__(self, command: SmppCommand, status: int) -> None:
        known = SmppCommandStatus(status) if status in SmppCommandStatus._value2member_map_ \
            else SmppCommandStatus.ESME_RUNKNOWNERR
        super().__init__(command, known)
        self.status = status

    def __str__(self) -> str:
        return f"bind rejected: {status_name(self.status)}"


class LinkDown(Exception):
    """The bind dropped while a request waited for its response."""


class _WindowBroker(AbstractBroker):
    """The queue the library's send loop drains, never more than `window` unanswered (4)."""

    def __init__(self, window: int) -> None:
        self.window = window
        self.in_flight = 0
        self._queue: deque[SmppMessage] = deque()
        self._changed = asyncio.Event()

    async def enqueue(self, message: SmppMessage) -> None:
        self._queue.append(message)
        self._changed.set()

    async def dequeue(self) -> SmppMessage:
        while not (self._queue and self.in_flight < self.window):
            self._changed.clear()
            await self._changed.wait()
        self.in_flight += 1
        return self._queue.popleft()

    def answered(self) -> None:
        self.in_flight = max(0, self.in_flight - 1)
        self._changed.set()

    def discard(self, log_id: str) -> bool:
        """Take back a request not sent yet (its caller gave up): whether it was queued."""
        for m in self._queue:
            if isinstance(m, SubmitSm) and m.log_id == log_id:
                self._queue.remove(m)
                return True
        return False

    def clear(self) -> list[SmppMessage]:
        dropped = list(self._queue)
        self._queue.clear()
        self.in_flight = 0
        self._changed.set()
        return dropped


class _NoCorrelator(AbstractCorrelator):
    """Nothing is correlated by the library any more (2): Session matches by sequence."""

    def get_cumulated_status(self, ref_num: int) -> int:
        return 0

    async def expired(self, smpp_message: SmppMessage) -> None:
        return None

    async def put(self, smpp_message: SmppMessage) -> None:
        return None

    async def put_delivery(self, smsc_message_id: str, submit_sm: SubmitSm) -> None:
        return None

    async def put_delivery_segmented(self, deliver_sm: DeliverSm) -> DeliverSm | None:
        return deliver_sm

    async def get(self, response: SmppMessage) -> SmppMessage | None:
        return None

    async def get_segmented(self, smpp_seq_num: int, remove: bool = False) -> tuple[None, int]:
        return None, 0

    async def get_delivery(self, receipt: DeliverSm) -> SubmitSm | None:
        return None


class _Registrar(AbstractHook):
    """Registers each submit_sm's sequence number before its bytes go out (2)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def sending(self, smpp_message: SmppMessage, pdu: bytes, client_id: str) -> None:
        if isinstance(smpp_message, SubmitSm) and smpp_message.log_id:
            self._session.register(smpp_message.sequence_num, smpp_message.log_id)

    async def received(self, smpp_message: SmppMessage | None, pdu: bytes,
                       client_id: str) -> None:
        return None

    async def send_error(self, smpp_message: SmppMessage, error: Exception,
                         client_id: str) -> None:
        if isinstance(smpp_message, SubmitSm):
            self._session.fail(smpp_message.log_id, error)


class _Pause(AbstractThrottleHandler):
    """After ESME_RTHROTTLED the bind sends nothing for a while, doubling while it lasts."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.until_ms = 0
        self._step_ms = 0

    def hit(self) -> None:
        self._step_ms = min(max(self._step_ms * 2, 250), 10_000)
        self.until_ms = self._clock.now_ms() + self._step_ms

    def clear(self) -> None:
        self._step_ms = 0

    async def throttled(self) -> None:
        self.hit()

    async def not_throttled(self) -> None:
        self.clear()

    async def allow_request(self) -> bool:
        return self._clock.now_ms() >= self.until_ms

    async def throttle_delay(self) -> float:
        return max(0.0, (self.until_ms - self._clock.now_ms()) / 1000)


class _Backoff(AbstractRetryTimer):
    """Reconnect after 1 s, 2 s, 4 s ... up to the connection's maximum, with jitter."""

    def __init__(self, max_s: float) -> None:
        self._max_s = max_s
        self._next_s = 1.0

    async def wait(self) -> None:
        await asyncio.sleep(self._next_s * random.uniform(0.8, 1.2))
        self._next_s = min(self._next_s * 2, self._max_s)

    def reset(self) -> None:
        self._next_s = 1.0

    def next_delay(self) -> float:
        return self._next_s


_REPORTED = ("Error response received from SMSC", "Connection lost while connecting",
             "Timed out while connecting", "Error while reading from SMSC",
             "Timed out while waiting for ENQUIRE_LINK")
"""Library log lines about what the connection's state already says (and Parley logs)."""


class _Forward(logging.Handler):
    """The library's structured logger, into Parley's log, without the lines that repeat
    what the state changes already log."""

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith(_REPORTED):
            return
        record.name = log.name
        log.handle(record)


class Session(ESME):
    def __init__(self, *, name: str, label: str, clock: Clock, host: str, port: int, system_id: str,
                 password: str, system_type: str, mode: BindMode, tls: bool, tls_verify: bool,
                 enquire_link_s: float, response_timeout_s: float, reconnect_max_s: float,
                 window: int, on_deliver: DeliverHandler,
                 on_state: Callable[[Session], None] | None = None) -> None:
        self.name = name
        self._label = label
        self._clock = clock
        self._tls = tls
        self._tls_verify = tls_verify
        self._on_deliver = on_deliver
        self._on_state = on_state
        self._window = _WindowBroker(window)
        self._pause = _Pause(clock)
        self._futures: dict[str, asyncio.Future[tuple[int, str]]] = {}
        """log id -> the response it waits for"""
        self._deadlines: dict[str, float] = {}
        """log id -> when it times out (loop time)"""
        self._sweeper: asyncio.Task[None] | None = None
        self._by_seq: dict[int, str] = {}
        self._order: dict[tuple[str, str], asyncio.Task[None]] = {}
        """(sender, number) -> the last text from that sender still being handled"""
        self._order_key: dict[asyncio.Task[None], tuple[str, str]] = {}
        self._handling: set[asyncio.Task[None]] = set()
        self.state = LinkState.STOPPED
        self.since_ms = clock.now_ms()
        self.reason: str | None = None
        super().__init__(
            smsc_host=host, smsc_port=port, system_id=system_id, password=password,
            system_type=system_type, bind_mode=mode, client_id=name,
            enquire_link_interval=float(enquire_link_s), log_level=logging.ERROR,
            log_handler=_Forward(), log_include_timestamp=False,
            hook=_Registrar(self), broker=self._window, throttle_handler=self._pause,
            correlator=_NoCorrelator(), retry_timer=_Backoff(reconnect_max_s),
            socket_timeout=float(response_timeout_s))
        self._task: asyncio.Task[None] | None = None
        self._session_state: SmppSessionState = SmppSessionState.CLOSED

    # -- state ------------------------------------------------------------------------------

    def _set(self, state: LinkState, reason: str | None = None) -> None:
        if (state, reason) != (self.state, self.reason):
            self.state, self.reason, self.since_ms = state, reason, self._clock.now_ms()
            level = logging.WARNING if reason else logging.INFO
            log.log(level, "SMPP '%s' %s: %s%s", self._label, self.name, state.value,
                    f" ({reason})" if reason else "")
            if self._on_state is not None:
                self._on_state(self)

    def status(self) -> BindStatus:
        return BindStatus(self.name, self.state, self.since_ms, self.reason,
                          self._window.in_flight)

    @property
    def can_send(self) -> bool:
        return self.state is LinkState.BOUND and self.bind_mode is not BindMode.RECEIVER

    @property
    def paused_until_ms(self) -> int:
        return self._pause.until_ms

    @property
    def queued(self) -> int:
        return len(self._futures)

    # -- life cycle ---------------------------------------------------------------------------

    def run(self) -> None:
        self._set(LinkState.CONNECTING)
        self._task = asyncio.create_task(self._supervise(), name=f"smpp-{self.name}")
        self._sweeper = asyncio.create_task(self._expire_forever(),
                                            name=f"smpp-timeouts-{self.name}")

    async def _supervise(self) -> None:
        """The library's reconnect loop, restarted if something it does not expect kills it."""
        while not self._is_shutting_down:
            try:
                await self.start()
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.exception("SMPP '%s' %s: session loop failed; restarting it", self._label,
                              self.name)
                self._set(LinkState.FAILED, f"{type(e).__name__}: {e}")
                await asyncio.sleep(1)

    async def close(self) -> None:
        """Unbind, close the socket, and stop reconnecting."""
        writer = self._writer
        try:
            await asyncio.wait_for(self.stop(), timeout=min(self.socket_timeout, 2.0))
        except NotImplementedError:
            pass  # the library half-closes with write_eof(), which TLS sockets cannot do (8)
        except (TimeoutError, OSError, ConnectionError):
            log.warning("SMPP '%s' %s did not unbind cleanly", self._label, self.name)
        if writer is not None:
            writer.close()
        for task in (self._task, self._sweeper):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        for task in list(self._handling):
            task.cancel()
        self._fail_all(LinkDown("the connection was stopped"))
        self._set(LinkState.STOPPED)

    async def connect(self) -> None:
        """Open the socket (TLS if asked: 8), bind, and read the answer ourselves (3)."""
        if self._session_state == self.bind_mode.session_state:
            return
        self._set(LinkState.CONNECTING, self.reason)
        context = None
        if self._tls:
            context = ssl.create_default_context()
            if not self._tls_verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        try:
            self._reader, self._writer = await asyncio.wait_for(asyncio.open_connection(
                self.smsc_host, self.smsc_port, limit=MAX_PDU, ssl=context),
                self.socket_timeout)
            self._session_state = SmppSessionState.OPEN
            command = self.bind_mode.smpp_command
            bind = MESSAGE_TYPE_MAP[command](
                system_id=self.system_id, password=self.password, system_type=self.system_type,
                interface_version=self.interface_version, addr_ton=self.addr_ton,
                addr_npi=self.addr_npi, address_range=self.address_range)
            await asyncio.wait_for(self._send_data(bind), self.socket_timeout)
            head = await asyncio.wait_for(self._reader.readexactly(PDU_HEADER_LENGTH),
                                          self.socket_timeout)
            length, _command_id, status, _seq = unpack("!IIII", head)
            if length > PDU_HEADER_LENGTH:
                await asyncio.wait_for(self._reader.readexactly(length - PDU_HEADER_LENGTH),
                                       self.socket_timeout)
            if status not in (ESME_ROK, SmppCommandStatus.ESME_RALYBND):
                raise BindRejected(command, status)
        except BindRejected as e:
            self._session_state = SmppSessionState.CLOSED
            self._set(LinkState.FAILED, str(e))
            raise
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as e:
            self._session_state = SmppSessionState.CLOSED
            self._set(LinkState.FAILED, _why(e, self.smsc_host, self.smsc_port))
            raise
        self._session_state = self.bind_mode.session_state
        self._set(LinkState.BOUND)

    # -- submitting -----------------------------------------------------------------------

    async def submit(self, pdu: SubmitSm) -> asyncio.Future[tuple[int, str]]:
        """Queue one submit_sm; the future resolves to (command_status, message_id), or to
        TimeoutError when no answer came within the response timeout."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[tuple[int, str]] = loop.create_future()
        self._futures[pdu.log_id] = fut
        self._deadlines[pdu.log_id] = loop.time() + self.socket_timeout
        await self._window.enqueue(pdu)
        return fut

    async def _expire_forever(self) -> None:
        """Fail requests past their response timeout (one sweep for all, not a timer each)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0.25)
            now = loop.time()
            for log_id in [k for k, d in self._deadlines.items() if d <= now]:
                self._expire(log_id)

    def _expire(self, log_id: str) -> None:
        self._deadlines.pop(log_id, None)
        fut = self._futures.pop(log_id, None)
        if fut is None:
            return
        if not self._window.discard(log_id):
            self._window.answered()  # it went out: its answer, if it comes, is ignored
        if not fut.done():
            fut.set_exception(TimeoutError(
                f"no submit_sm_resp within {self.socket_timeout:g} s on {self.name}"))

    def register(self, sequence: int, log_id: str) -> None:
        self._by_seq[sequence] = log_id

    def fail(self, log_id: str, error: BaseException) -> None:
        """The library could not send a request it had taken from the window."""
        self._deadlines.pop(log_id, None)
        fut = self._futures.pop(log_id, None)
        if fut is not None and not fut.done():
            fut.set_exception(error)
            self._window.answered()

    def _answer(self, sequence: int, status: int, message_id: str) -> None:
        log_id = self._by_seq.pop(sequence, None)
        if log_id is None:
            return
        fut = self._futures.pop(log_id, None)
        if fut is None:
            return  # a response to a request we gave up on
        self._deadlines.pop(log_id, None)
        self._window.answered()
        if status in (ESME_RTHROTTLED, ESME_RMSGQFUL):
            self._pause.hit()
        else:
            self._pause.clear()
        if not fut.done():
            fut.set_result((status, message_id))

    def _fail_all(self, error: BaseException) -> None:
        futures, self._futures = self._futures, {}
        self._by_seq.clear()
        self._deadlines.clear()
        self._window.clear()
        for fut in futures.values():
            if not fut.done():
                fut.set_exception(error)

    # -- receiving (5, 6) -------------------------------------------------------------------

    async def _receive_data(self) -> bytes | None:
        reason = "the SMSC closed the connection"
        try:
            while not self._is_shutting_down and \
                    self._session_state == self.bind_mode.session_state:
                assert self._reader is not None
                head = await self._reader.readexactly(PDU_HEADER_LENGTH)
                length, command_id, status, seq = unpack("!IIII", head)
                if not PDU_HEADER_LENGTH <= length <= MAX_PDU:
                    reason = f"framing error: command_length {length}"
                    raise ValueError(reason)
                body = await self._reader.readexactly(length - PDU_HEADER_LENGTH)
                self._data_received.set()
                await self._dispatch(command_id, status, seq, head + body)
                if command_id == SmppCommand.UNBIND:
                    reason = "the SMSC unbound"
                    return None
            return None
        except asyncio.IncompleteReadError:
            raise
        except (OSError, ConnectionError) as e:
            reason = f"connection lost: {e}"
            raise
        except ValueError:
            raise
        except Exception as e:
            # The library's loop survives only the errors it expects: make this one of them.
            log.exception("SMPP '%s' %s: receive loop failed", self._label, self.name)
            reason = f"{type(e).__name__}: {e}"
            raise ValueError(reason) from e
        finally:
            if not self._is_shutting_down:
                self._set(LinkState.CONNECTING, f"{reason}; reconnecting")
            self._session_state = SmppSessionState.CLOSED
            self._fail_all(LinkDown(reason))

    async def _dispatch(self, command_id: int, status: int, seq: int, pdu: bytes) -> None:
        if command_id == SmppCommand.SUBMIT_SM_RESP:
            body = pdu[PDU_HEADER_LENGTH:]
            end = body.find(b"\x00")
            message_id = (body[:end] if end >= 0 else body).decode("ascii", "replace")
            self._answer(seq, status, message_id)
        elif command_id == SmppCommand.GENERIC_NACK:
            self._answer(seq, status or SmppCommandStatus.ESME_RUNKNOWNERR, "")
        elif command_id == SmppCommand.DELIVER_SM:
            await self._deliver(seq, pdu)
        elif command_id == SmppCommand.ENQUIRE_LINK:
            await self._send_data(EnquireLinkResp(seq))
        elif command_id == SmppCommand.UNBIND:
            await self._send_data(UnbindResp(seq))
        elif not command_id & 0x80000000:
            await self._send_data(GenericNack(
                seq, command_status=SmppCommandStatus.ESME_RINVCMDID))

    async def _deliver(self, seq: int, pdu: bytes) -> None:
        header = PduHeader(pdu_length=len(pdu), smpp_command=SmppCommand.DELIVER_SM,
                           command_status=SmppCommandStatus.ESME_ROK, sequence_num=seq)
        try:
            # A receipt's text is ASCII: read it with the C codec, not the library's
            # character-by-character GSM decoder (the costliest step of a receipt).
            coding = "latin_1" if is_receipt(pdu) else self.default_encoding
            message = DeliverSm.from_pdu(pdu, header, coding, GSM7_CODECS)
        except (ValueError, LookupError, UnicodeDecodeError):
            log.warning("SMPP '%s': unreadable deliver_sm %s", self._label, pdu.hex())
            await self._respond(seq, SmppCommandStatus.ESME_RINVMSGLEN)
            return
        assert isinstance(message, DeliverSm)
        # Texts from one sender to one number are handled in order; receipts in any order
        # (a status only ever moves forward).
        key = None if message.is_receipt() else (message.source.number,
                                                  message.destination.number)
        before = None if key is None else self._order.get(key)
        task = asyncio.get_running_loop().create_task(self._handle(seq, message, before))
        if key is not None:
            self._order[key] = task
            self._order_key[task] = key
        self._handling.add(task)
        task.add_done_callback(self._handled)
        if len(self._handling) >= 4 * self._window.window + 256:
            # Back-pressure: stop reading until some are stored.
            await asyncio.wait(set(self._handling), return_when=asyncio.FIRST_COMPLETED)

    def _handled(self, task: asyncio.Task[None]) -> None:
        self._handling.discard(task)
        key = self._order_key.pop(task, None)
        if key is not None and self._order.get(key) is task:
            del self._order[key]

    async def _handle(self, seq: int, message: DeliverSm,
                      before: asyncio.Task[None] | None) -> None:
        if before is not None:
            await asyncio.gather(before, return_exceptions=True)
        try:
            status = await self._on_deliver(message)
        except Exception:
            log.exception("SMPP '%s': handling deliver_sm %d failed", self._label, seq)
            status = SmppCommandStatus.ESME_RX_T_APPN
        await self._respond(seq, status)

    async def _respond(self, seq: int, status: int) -> None:
        if self._session_state != self.bind_mode.session_state:
            return  # the SMSC will deliver it again on the next bind
        try:
            await self._send_data(DeliverSmResp(seq, command_status=SmppCommandStatus(status)))
        except (OSError, ConnectionError):
            log.warning("SMPP '%s': could not answer deliver_sm %d", self._label, seq)


def is_receipt(pdu: bytes) -> bool:
    """Whether a deliver_sm PDU is a delivery receipt (esm_class message type 1), read from
    its fixed layout: service_type, source and destination are C strings before esm_class."""
    at = PDU_HEADER_LENGTH
    try:
        at = pdu.index(0, at) + 3  # service_type, source_addr_ton and _npi
        at = pdu.index(0, at) + 3  # source_addr, dest_addr_ton and _npi
        at = pdu.index(0, at) + 1  # destination_addr
        return (pdu[at] & 0x3C) == 0x04
    except (ValueError, IndexError):
        return False


def concatenation_of(message: DeliverSm) -> tuple[int, int, int] | None:
    """(reference, part, parts) of one part of a multipart text, or None for a whole one."""
    ref = seq = total = None
    for p in message.optional_params or ():
        if p.tag == SAR_MSG_REF_NUM:
            ref = int(p.value)
        elif p.tag == SAR_SEGMENT_SEQNUM:
            seq = int(p.value)
        elif p.tag == SAR_TOTAL_SEGMENTS:
            total = int(p.value)
    if ref is None or seq is None or total is None or total < 2:
        return None
    if message.esm_class & 0x40 and ref > 0xFF:
        ref >>= 16  # workaround 7: a 16-bit reference read as 32 bits
    return ref, seq, total


def _why(e: BaseException, host: str, port: int) -> str:
    if isinstance(e, TimeoutError):
        return f"no answer from {host}:{port} in time"
    if isinstance(e, ConnectionRefusedError):
        return f"connection to {host}:{port} refused"
    if isinstance(e, asyncio.IncompleteReadError):
        return "the SMSC closed the connection during the bind"
    if isinstance(e, ssl.SSLError):
        return f"TLS failed: {e.reason or e}"
    return f"{type(e).__name__}: {e}"
