"""The one threading helper of the GUI: frozen requests in, results or exceptions out via signals.

Work runs on named *lanes*; each lane is a single daemon thread that takes jobs in order, so all
torch work stays on one thread ("compute") while a long projection ("projection") or a cheap count
("light") never waits behind it. Every request gets an id and a *channel* ("search", "count", ...):
when a newer request is submitted on the same channel, the older one is cancelled, skipped if it has
not started, and its result is dropped if it arrives late — views only ever see the latest answer.

Results are delivered on the GUI thread through queued signals of a QObject that lives there. In
synchronous mode (tests) ``submit`` runs the job at once on the calling thread.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from posebrowser.errors import JobCancelledError

log = logging.getLogger(__name__)

LANES = ("compute", "projection", "light")


class JobContext:
    """Handed to every job: report progress, check for cancellation, publish intermediate results."""

    def __init__(self, request_id: int, channel: str, hub: Workers) -> None:
        self.request_id = request_id
        self.channel = channel
        self._hub = hub
        self._cancel = threading.Event()

    def progress(self, done: int, total: int) -> None:
        """Report ``done`` of ``total`` steps (shown in the status-bar progress widget)."""
        self._hub.progressed.emit(self.request_id, self.channel, int(done), int(total))

    def cancelled(self) -> bool:
        """True once the user (or a newer request on the same channel) cancelled this job."""
        return self._cancel.is_set()

    def raise_if_cancelled(self) -> None:
        if self._cancel.is_set():
            raise JobCancelledError()

    def publish(self, value: object) -> None:
        """Send an intermediate result (e.g. a t-SNE layout) to the GUI thread."""
        self._hub.intermediate.emit(self.request_id, self.channel, value)

    def cancel(self) -> None:
        self._cancel.set()


@dataclass(frozen=True)
class JobRequest:
    """One unit of work: ``function(context)`` on ``lane``; newer requests on ``channel`` win."""

    request_id: int
    channel: str
    lane: str
    function: Callable[[JobContext], Any]
    context: JobContext = field(compare=False)


@dataclass
class _Callbacks:
    on_result: Callable[[Any], None]
    on_error: Callable[[BaseException], None] | None
    on_intermediate: Callable[[Any], None] | None


class Workers(QObject):
    """Runs jobs off the GUI thread, one thread per lane; see the module docstring."""

    finished = Signal(int, str, object)
    failed = Signal(int, str, object)
    progressed = Signal(int, str, int, int)
    intermediate = Signal(int, str, object)
    job_progress = Signal(str, int, int)
    busy_changed = Signal(bool)

    def __init__(self, synchronous: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.synchronous = synchronous
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._latest: dict[str, int] = {}
        self._contexts: dict[int, JobContext] = {}
        self._callbacks: dict[int, _Callbacks] = {}
        self._queues: dict[str, queue.Queue[JobRequest | None]] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._closed = False
        self.finished.connect(self._deliver_result)
        self.failed.connect(self._deliver_error)
        self.intermediate.connect(self._deliver_intermediate)
        self.progressed.connect(self._deliver_progress)

    # ----------------------------------------------------------------------------- submission
    def submit(
        self,
        channel: str,
        function: Callable[[JobContext], Any],
        on_result: Callable[[Any], None],
        *,
        lane: str = "compute",
        on_error: Callable[[BaseException], None] | None = None,
        on_intermediate: Callable[[Any], None] | None = None,
    ) -> int:
        """Queue ``function(context)``; returns the request id. Older requests on ``channel`` are
        cancelled and their results dropped."""
        if lane not in LANES:
            raise ValueError(f"unknown lane {lane!r}")
        request_id = next(self._ids)
        context = JobContext(request_id, channel, self)
        with self._lock:
            previous = self._latest.get(channel)
            if previous is not None and previous in self._contexts:
                self._contexts[previous].cancel()
            self._latest[channel] = request_id
            self._contexts[request_id] = context
        self._callbacks[request_id] = _Callbacks(on_result, on_error, on_intermediate)
        was_busy = len(self._callbacks) > 1
        if not was_busy:
            self.busy_changed.emit(True)
        request = JobRequest(request_id, channel, lane, function, context)
        if self.synchronous:
            self._run(request)
        else:
            self._lane_queue(lane).put(request)
        return request_id

    def cancel(self, channel: str | None = None) -> None:
        """Cancel the running/queued job on ``channel`` (all channels when None)."""
        with self._lock:
            for context in self._contexts.values():
                if channel is None or context.channel == channel:
                    context.cancel()

    def discard(self, keep: tuple[str, ...] = ()) -> None:
        """Cancel every job except those on ``keep`` channels and drop their results when they arrive
        (e.g. answers about a gallery that was just replaced)."""
        with self._lock:
            for request_id, context in self._contexts.items():
                if context.channel not in keep:
                    context.cancel()
                    if self._latest.get(context.channel) == request_id:
                        self._latest[context.channel] = 0

    def is_busy(self, channel: str | None = None) -> bool:
        with self._lock:
            return any(channel is None or c.channel == channel for c in self._contexts.values())

    def shutdown(self, timeout: float = 2.0) -> None:
        """Cancel everything and stop the lane threads (called when the window closes)."""
        self._closed = True
        self.cancel()
        for lane_queue in self._queues.values():
            lane_queue.put(None)
        for thread in self._threads.values():
            thread.join(timeout)
        self._threads.clear()
        self._queues.clear()

    # ----------------------------------------------------------------------------- worker side
    def _lane_queue(self, lane: str) -> queue.Queue[JobRequest | None]:
        if lane not in self._queues:
            lane_queue: queue.Queue[JobRequest | None] = queue.Queue()
            thread = threading.Thread(target=self._loop, args=(lane_queue,), name=f"pb-{lane}", daemon=True)
            self._queues[lane] = lane_queue
            self._threads[lane] = thread
            thread.start()
        return self._queues[lane]

    def _loop(self, lane_queue: queue.Queue[JobRequest | None]) -> None:
        while True:
            request = lane_queue.get()
            if request is None:
                return
            self._run(request)

    def _run(self, request: JobRequest) -> None:
        try:
            request.context.raise_if_cancelled()
            result = request.function(request.context)
        except BaseException as error:  # delivered to the GUI thread, never swallowed
            self.failed.emit(request.request_id, request.channel, error)
        else:
            self.finished.emit(request.request_id, request.channel, result)

    # ----------------------------------------------------------------------------- GUI side
    def _is_current(self, request_id: int, channel: str) -> bool:
        with self._lock:
            return self._latest.get(channel) == request_id

    def _retire(self, request_id: int) -> _Callbacks | None:
        with self._lock:
            self._contexts.pop(request_id, None)
        callbacks = self._callbacks.pop(request_id, None)
        if not self._callbacks:
            self.busy_changed.emit(False)
        return callbacks

    @Slot(int, str, object)
    def _deliver_result(self, request_id: int, channel: str, result: object) -> None:
        current = self._is_current(request_id, channel)
        callbacks = self._retire(request_id)
        if callbacks is not None and current and not self._closed:
            callbacks.on_result(result)

    @Slot(int, str, object)
    def _deliver_error(self, request_id: int, channel: str, error: object) -> None:
        current = self._is_current(request_id, channel)
        callbacks = self._retire(request_id)
        if callbacks is None or self._closed:
            return
        if isinstance(error, JobCancelledError) and not current:
            return
        if callbacks.on_error is not None and isinstance(error, BaseException):
            callbacks.on_error(error)
        elif isinstance(error, BaseException):
            log.error("unhandled error in job %s", channel, exc_info=error)

    @Slot(int, str, object)
    def _deliver_intermediate(self, request_id: int, channel: str, value: object) -> None:
        callbacks = self._callbacks.get(request_id)
        if callbacks is not None and callbacks.on_intermediate and self._is_current(request_id, channel):
            callbacks.on_intermediate(value)

    @Slot(int, str, int, int)
    def _deliver_progress(self, request_id: int, channel: str, done: int, total: int) -> None:
        if self._is_current(request_id, channel):
            self.job_progress.emit(channel, done, total)
