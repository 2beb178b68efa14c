"""The keep-alive connections of :mod:`connectors.wire`: one protocol per connection, one
pool per origin.

A :class:`Connection` carries one request at a time and reads its answer with llhttp (through
httptools) straight into a header multidict and a list of body chunks, counted against the
size cap as they arrive. A :class:`Pool` keeps at most ``size`` of them to one origin: callers
wait their turn in arrival order when all are busy, idle connections are reused last-in
first-out, so a quiet upstream keeps few warm ones, and a connection is dropped when the
server closes it or says ``Connection: close``, when its answer was not read whole, and when
it stayed idle longer than :data:`KEEPALIVE` seconds.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from typing import cast

from httptools import (
    HttpParserCallbackError,
    HttpParserError,
    HttpParserUpgrade,
    HttpResponseParser,
)
from multidict import CIMultiDict

from connectors.transport import AnswerTooLarge

# Seconds an idle connection is kept (aiohttp's default): servers close theirs after a few
# seconds too, and the idempotent resend covers the race when they do first.
KEEPALIVE = 15.0
_NO_BODY = frozenset({204, 304})


class ConnectFailed(ConnectionError):
    """No connection could be made (refused, unreachable, name unknown, TLS handshake)."""


class BadAnswer(Exception):
    """The answer breaks HTTP/1.1 or its body does not decode."""


class Connection(asyncio.Protocol):
    """One connection and the answer being read on it; one request at a time."""

    def __init__(self, max_bytes: int) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._max = max_bytes
        self._parser = HttpResponseParser(self)
        self._waiter: asyncio.Future[None] | None = None
        self._head = False
        self._received = False
        self._complete = False
        self._until_eof = False
        self.keep_alive = False
        self.status = 0
        self.headers: CIMultiDict[str] = CIMultiDict()
        self.chunks: list[bytes] = []
        self._size = 0

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without deriving from it.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._until_eof and exc is None:
            # An answer with neither a length nor chunks ends with its connection.
            self._complete = True
            self.keep_alive = False
            waiter.set_result(None)
            return
        lost = ConnectionResetError("the upstream closed the connection before the answer ended")
        lost.__cause__ = exc
        waiter.set_exception(lost)

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._complete:
            self.close()  # bytes nobody asked for: the connection is out of step
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except HttpParserCallbackError as exc:
            cause = exc.__context__
            self._fail(cause if isinstance(cause, AnswerTooLarge | BadAnswer) else BadAnswer())
        except (HttpParserError, HttpParserUpgrade) as exc:
            failure = BadAnswer("the answer breaks HTTP/1.1")
            failure.__cause__ = exc
            self._fail(failure)

    # httptools callbacks

    def on_message_begin(self) -> None:
        if self._complete:
            raise BadAnswer("more than one answer to one request")

    def on_header(self, name: bytes, value: bytes) -> None:
        # Headers count towards the cap too: endless ones must not fill memory either.
        self._size += len(name) + len(value)
        if self._size > self._max:
            raise AnswerTooLarge(self._max)
        self.headers.add(name.decode("latin-1"), value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        status = self.status = self._parser.get_status_code()
        self.keep_alive = self._parser.should_keep_alive()
        self._size = 0
        if status < 200:
            return
        length = self.headers.get("content-length")
        if length is not None:
            if length.isdigit() and int(length) > self._max:
                raise AnswerTooLarge(self._max)
        elif "transfer-encoding" not in self.headers and status not in _NO_BODY:
            self._until_eof = not self._head
        if self._head:
            # httptools cannot be told the answer to a HEAD has no body: end it here, and
            # never reuse the connection, whose parser now expects one.
            self.keep_alive = False
            self._finish()

    def on_body(self, body: bytes) -> None:
        if self._complete:  # the body of an answer to HEAD: not ours to keep
            return
        self._size += len(body)
        if self._size > self._max:
            raise AnswerTooLarge(self._max)
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:  # an interim answer (100 Continue…): the real one follows
            self.headers = CIMultiDict()
            return
        self._until_eof = False
        self._finish()

    # the exchange

    async def exchange(self, request: bytes, head: bool, deadline: float) -> None:
        """Send ``request`` and wait until its whole answer is read; ``TimeoutError`` at
        ``deadline`` (the event loop's clock)."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        self._head = head
        self._received = self._complete = self._until_eof = False
        self.status = self._size = 0
        self.headers = CIMultiDict()
        self.chunks = []
        if self.closed or self.transport.is_closing():
            raise ConnectionResetError("the upstream closed the connection")
        self.transport.write(request)
        # One timer on the loop, cancelled with the answer: what asyncio.timeout would do,
        # without its bookkeeping on every agency call.
        timer = loop.call_at(deadline, _expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    @property
    def answered(self) -> bool:
        """Whether any byte of the current answer arrived."""
        return self._received

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _finish(self) -> None:
        self._complete = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        self.close()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Pool:
    """The connections to one origin: at most ``size``, waiters served first come first."""

    def __init__(
        self, host: str, port: int, tls: ssl.SSLContext | None, size: int, max_bytes: int
    ) -> None:
        self._host = host
        self._port = port
        self._tls = tls
        self._size = size
        self._max = max_bytes
        self._count = 0  # connections open or being opened
        self._idle: list[Connection] = []
        self._waiters: deque[asyncio.Future[Connection | None]] = deque()
        self._closed = False

    def idle(self, now: float) -> Connection | None:
        """A kept connection ready for a request at once, if there is one (``now`` on the
        event loop's clock)."""
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and now - conn.idle_since < KEEPALIVE:
                return conn
            conn.close()
            self._count -= 1
        return None

    async def acquire(self) -> tuple[Connection, bool]:
        """A connection and whether it served before."""
        loop = asyncio.get_running_loop()
        kept = self.idle(loop.time())
        if kept is not None:
            return kept, True
        if self._count < self._size:
            self._count += 1
        else:
            waiter: asyncio.Future[Connection | None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                handed = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    self._hand(waiter.result())  # given to us as we gave up: pass it on
                elif waiter in self._waiters:
                    self._waiters.remove(waiter)
                raise
            if handed is not None:
                if not handed.closed:
                    return handed, True
                handed.close()  # closed by the server since: its place is ours
            # None: a connection was dropped and its place is ours.
        try:
            return await self._connect(loop), False
        except BaseException:
            self._hand(None)
            raise

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> Connection:
        try:
            _, conn = await loop.create_connection(
                lambda: Connection(self._max),
                self._host,
                self._port,
                ssl=self._tls,
                server_hostname=self._host if self._tls is not None else None,
            )
        except OSError as exc:
            raise ConnectFailed("no connection to the upstream") from exc
        return conn

    def release(self, conn: Connection) -> None:
        """Take back a connection after a whole answer: kept when the server allows it."""
        if conn.closed or not conn.keep_alive or self._closed:
            self.discard(conn)
            return
        conn.idle_since = asyncio.get_running_loop().time()
        self._hand(conn)

    def discard(self, conn: Connection) -> None:
        conn.close()
        self._hand(None)

    def _hand(self, conn: Connection | None) -> None:
        """Give a connection, or the place of one dropped, to the first waiter still waiting."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        if conn is None:
            self._count -= 1
        else:
            self._idle.append(conn)

    def close(self) -> None:
        self._closed = True
        for conn in self._idle:
            conn.close()
        self._count -= len(self._idle)
        self._idle.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the upstream transport is closed"))
