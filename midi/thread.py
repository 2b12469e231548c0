"""The dedicated MIDI thread: input port -> arrival timestamps -> MidiDispatcher.

The thread drains RtMidi's queue, stamps each message with ``time.perf_counter_ns()`` as
it is taken, and hands the batch to the dispatcher (which sets parameter targets on the
shared ParameterStore; the audio callback picks them up on its next block). When the
queue is empty it sleeps ``poll_interval_s`` (0.5 ms) while controls are moving, and
``idle_poll_interval_s`` (1 ms) once nothing arrived for ``idle_after_s`` (1 s): that
bounds the extra delay before a message is seen. Each wake-up costs about 30 us of CPU
on the development VM (measured: 5 % of a core at 0.5 ms, half that at 1 ms), so the
idle rate is the cheaper one. JACK itself delivers MIDI once per period (2.7 ms at
128 frames / 48 kHz), which dominates the end-to-end latency either way.

Polling instead of an RtMidi callback keeps Python out of JACK's real-time process
thread (see midi.ports). With ``port`` set, a PortWatcher reconnects when the device is
unplugged and plugged back; with ``virtual`` set, the thread owns a virtual input that
other programs connect to.

Composition root::

    store = ParameterStore(sample_rate)
    table = MappingTable.load(path)              # or MappingTable()
    learner = Learner(table, on_result=gui.learned)
    dispatcher = MidiDispatcher(store, table, learner=learner, clock=ClockIn(),
                                on_program=presets.recall, on_note=voices.note)
    midi = MidiThread(dispatcher, port="Launch Control", backend="jack").start()
    ...
    midi.stop()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from midi.dispatcher import MidiDispatcher
from midi.ports import InputPort, OutputPort, PortWatcher, open_input

log = logging.getLogger(__name__)


class MidiThread:
    """Runs a dispatcher on its own daemon thread, fed from one input port.

    port:    name (exact or unique substring) of a port to connect to and keep watching.
    virtual: name of a virtual input to create instead (default ``in`` if neither given).
    on_port: called with ``(port_name, connected)`` when the port comes or goes.
    poll_interval_s / idle_poll_interval_s / idle_after_s: queue polling (see above).
    """

    def __init__(self, dispatcher: MidiDispatcher, port: str | None = None, *,
                 virtual: str | None = None, backend: str = "jack",
                 client_name: str = "musicmill", poll_interval_s: float = 0.0005,
                 idle_poll_interval_s: float = 0.001, idle_after_s: float = 1.0,
                 watch_interval_s: float = 0.5,
                 on_port: Callable[[str, bool], None] | None = None) -> None:
        if port is not None and virtual is not None:
            raise ValueError("give either port (connect to it) or virtual (create one)")
        self.dispatcher = dispatcher
        self.port_query = port
        self.virtual_name = virtual if virtual is not None or port is not None else "in"
        self.backend = backend
        self.client_name = client_name
        self.poll_interval_s = poll_interval_s
        self.idle_poll_interval_s = idle_poll_interval_s
        self.idle_after_ns = int(idle_after_s * 1e9)
        self.watch_interval_s = watch_interval_s
        self.on_port = on_port
        self._port: InputPort | None = None
        self._port_lock = threading.Lock()  # the watcher swaps ports; the loop reads them
        self._watcher: PortWatcher | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def port_name(self) -> str | None:
        """The name of the connected port, or None while disconnected."""
        port = self._port
        return None if port is None else port.name

    @property
    def connected(self) -> bool:
        """True while an input port is open."""
        return self._port is not None

    def start(self) -> MidiThread:
        """Open (or start watching for) the port and start the thread. Returns self.

        A virtual port that cannot be created raises midi.ports.PortError; a named port
        that is missing is not an error: the watcher connects when it appears.
        """
        if self._thread is not None:
            raise RuntimeError("MidiThread already started")
        if self.port_query is None:
            self._attach(open_input(self.virtual_name, backend=self.backend, virtual=True,
                                    client_name=self.client_name))
        else:
            self._watcher = PortWatcher(self.port_query, backend=self.backend,
                                        interval_s=self.watch_interval_s,
                                        client_name=self.client_name,
                                        on_connect=self._attach, on_disconnect=self._detach)
            self._watcher.start()
            if self._port is None:
                log.warning("MIDI port %r not found yet; waiting for it", self.port_query)
        self._thread = threading.Thread(target=self._loop, name="midi-in", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop the thread and close the port."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
        if self._watcher is not None:
            self._watcher.stop()
        with self._port_lock:
            port, self._port = self._port, None
        if port is not None:
            port.close()

    def __enter__(self) -> MidiThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _attach(self, port: InputPort | OutputPort) -> None:
        assert isinstance(port, InputPort)
        with self._port_lock:
            self._port = port
        self.dispatcher.reset_state()
        log.info("MIDI input connected: %s", port.name)
        self._notify(port.name, True)

    def _detach(self, name: str) -> None:
        with self._port_lock:
            self._port = None
        self._notify(name, False)

    def _notify(self, name: str, connected: bool) -> None:
        if self.on_port is not None:
            try:
                self.on_port(name, connected)
            except Exception:
                log.exception("MIDI on_port callback failed")

    def _loop(self) -> None:
        dispatcher = self.dispatcher
        clock_ns = time.perf_counter_ns
        sleep = time.sleep
        active_s, idle_s = self.poll_interval_s, self.idle_poll_interval_s
        idle_after_ns = self.idle_after_ns
        last_ns = 0
        batch: list[tuple[list[int], int]] = []
        while not self._stop.is_set():
            with self._port_lock:
                port = self._port
                if port is not None:
                    try:
                        while (data := port.read()) is not None:
                            batch.append((data, clock_ns()))
                    except Exception:  # a port closing under us: the watcher handles it
                        log.exception("MIDI read failed on %s", port.name)
            now = clock_ns()
            if batch:
                last_ns = batch[-1][1]
                dispatcher.handle_batch(batch)
                batch.clear()
                dispatcher.poll(clock_ns())
            else:
                dispatcher.poll(now)
                sleep(active_s if now - last_ns < idle_after_ns else idle_s)
