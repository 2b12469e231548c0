"""MIDI ports: backend choice, listing, opening by name or as virtual ports, and a watcher.

Backends are picked by a flag value: ``jack`` -> ``mido.backends.rtmidi/UNIX_JACK``,
``alsa`` -> ``mido.backends.rtmidi/LINUX_ALSA`` (the mido names; :func:`use_backend` sets
mido's default too, for code that opens mido ports).

Ports here wrap python-rtmidi directly instead of mido's rtmidi ports, because mido's
input always installs a Python callback, and with the JACK API RtMidi calls that callback
inside the JACK process thread (measured here: the callback runs with SCHED_FIFO). A
Python callback must take the GIL there, which can hold up the whole JACK graph (and so
the audio) for a GIL switch interval. Our input is never given a callback: RtMidi queues
messages and the MIDI thread polls the queue (midi.thread).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import mido
import rtmidi

log = logging.getLogger(__name__)

BACKENDS = {"jack": "mido.backends.rtmidi/UNIX_JACK", "alsa": "mido.backends.rtmidi/LINUX_ALSA"}
_RTAPI = {"UNIX_JACK": rtmidi.API_UNIX_JACK, "LINUX_ALSA": rtmidi.API_LINUX_ALSA}

# RtMidi's input queue, in messages: enough for a burst of a few hundred CCs between polls.
QUEUE_SIZE = 4096


class PortError(OSError):
    """A port could not be found, matched or opened; the message says which and why."""


def resolve_backend(flag: str) -> str:
    """The mido backend name for ``jack``/``alsa`` (a full mido rtmidi name passes through)."""
    if flag in BACKENDS:
        return BACKENDS[flag]
    if flag in BACKENDS.values():
        return flag
    raise PortError(f"unknown MIDI backend {flag!r}; use one of {', '.join(BACKENDS)}")


def use_backend(flag: str) -> str:
    """Make ``flag``'s backend mido's default (``mido.set_backend``); returns its name."""
    name = resolve_backend(flag)
    mido.set_backend(name)
    return name


def _rtapi(flag: str) -> int:
    return _RTAPI[resolve_backend(flag).rsplit("/", 1)[1]]


def _rt(cls, flag: str, client_name: str):
    try:
        if cls is rtmidi.MidiIn:
            return rtmidi.MidiIn(rtapi=_rtapi(flag), name=client_name, queue_size_limit=QUEUE_SIZE)
        return cls(rtapi=_rtapi(flag), name=client_name)
    except (rtmidi.RtMidiError, RuntimeError) as exc:
        hint = ""
        if flag in ("alsa", BACKENDS["alsa"]):
            hint = " (no ALSA sequencer? /dev/snd/seq must exist; try --backend jack)"
        elif flag in ("jack", BACKENDS["jack"]):
            hint = " (is a JACK server running? `jack_lsp` must succeed)"
        raise PortError(f"cannot open the {flag} MIDI backend: {exc}{hint}") from exc


def list_inputs(backend: str = "jack") -> list[str]:
    """Names of the ports we can receive from (JACK: ``client:port``)."""
    rt = _rt(rtmidi.MidiIn, backend, "musicmill-list")
    try:
        return list(rt.get_ports())
    finally:
        rt.delete()


def list_outputs(backend: str = "jack") -> list[str]:
    """Names of the ports we can send to."""
    rt = _rt(rtmidi.MidiOut, backend, "musicmill-list")
    try:
        return list(rt.get_ports())
    finally:
        rt.delete()


def match_port(query: str, names: Sequence[str]) -> str:
    """The port ``query`` names: an exact name, else a unique substring (case-sensitive,
    then case-insensitive). Raises PortError listing the candidates otherwise."""
    if query in names:
        return query
    for fold in (False, True):
        q = query.lower() if fold else query
        hits = [n for n in names if q in (n.lower() if fold else n)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise PortError(f"port {query!r} is ambiguous: {', '.join(hits)}")
    listing = ", ".join(names) if names else "none"
    raise PortError(f"no MIDI port matches {query!r}; available: {listing}")


def find_port(query: str, names: Sequence[str]) -> str | None:
    """Like :func:`match_port` but None when nothing (or more than one port) matches."""
    try:
        return match_port(query, names)
    except PortError:
        return None


class InputPort:
    """An open input: non-blocking :meth:`read` of raw messages from RtMidi's queue."""

    def __init__(self, rt: rtmidi.MidiIn, name: str, virtual: bool) -> None:
        self._rt = rt
        self.name = name
        self.virtual = virtual
        self.closed = False

    def read(self) -> list[int] | None:
        """The next queued message as a list of bytes, or None when the queue is empty."""
        if self.closed:
            return None
        item = self._rt.get_message()
        return None if item is None else item[0]

    def receive(self, timeout_s: float | None = None, poll_s: float = 0.001) -> list[int] | None:
        """Wait up to ``timeout_s`` seconds (None: forever) for a message (for tools/CLI)."""
        deadline = None if timeout_s is None else time.perf_counter() + timeout_s
        while not self.closed:
            data = self.read()
            if data is not None:
                return data
            if deadline is not None and time.perf_counter() >= deadline:
                return None
            time.sleep(poll_s)
        return None

    def close(self) -> None:
        """Close the port and its client (idempotent)."""
        if not self.closed:
            self.closed = True
            self._rt.close_port()
            self._rt.delete()

    def __enter__(self) -> InputPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"InputPort({self.name!r}, virtual={self.virtual}, closed={self.closed})"


class OutputPort:
    """An open output; :meth:`send` is thread-safe (clock thread and note sender share it)."""

    def __init__(self, rt: rtmidi.MidiOut, name: str, virtual: bool) -> None:
        self._rt = rt
        self.name = name
        self.virtual = virtual
        self.closed = False
        self._lock = threading.Lock()

    def send(self, msg: mido.Message | Sequence[int]) -> None:
        """Send a mido message or the raw bytes of one message."""
        data = msg.bytes() if isinstance(msg, mido.Message) else list(msg)
        with self._lock:
            if not self.closed:
                self._rt.send_message(data)

    def close(self) -> None:
        """Close the port and its client (idempotent)."""
        with self._lock:
            if not self.closed:
                self.closed = True
                self._rt.close_port()
                self._rt.delete()

    def __enter__(self) -> OutputPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OutputPort({self.name!r}, virtual={self.virtual}, closed={self.closed})"


def _open(cls, name: str | None, backend: str, virtual: bool, client_name: str,
          port_name: str):
    rt = _rt(cls, backend, client_name)
    try:
        if virtual:
            if not name:
                raise PortError("a virtual port needs a name")
            rt.open_virtual_port(name)
            return rt, f"{client_name}:{name}" if backend in ("jack", BACKENDS["jack"]) else name
        names = list(rt.get_ports())
        if name is None:
            if not names:
                raise PortError("no MIDI ports available")
            full = names[0]
        else:
            full = match_port(name, names)
        rt.open_port(names.index(full), port_name)
        return rt, full
    except BaseException:
        rt.delete()
        raise


def open_input(name: str | None = None, *, backend: str = "jack", virtual: bool = False,
               client_name: str = "musicmill", port_name: str = "in",
               ignore_sysex: bool = True) -> InputPort:
    """Open an input by name (exact or unique substring; None: the first), or create a
    virtual input called ``name`` that other programs connect to.

    Clock and start/stop are always received; sysex only with ``ignore_sysex=False``;
    active sensing never (it only says the cable is in).
    """
    try:
        rt, full = _open(rtmidi.MidiIn, name, backend, virtual, client_name, port_name)
    except (rtmidi.RtMidiError, RuntimeError) as exc:
        raise PortError(f"cannot open MIDI input {name!r}: {exc}") from exc
    rt.ignore_types(sysex=ignore_sysex, timing=False, active_sense=True)
    return InputPort(rt, full, virtual)


def open_output(name: str | None = None, *, backend: str = "jack", virtual: bool = False,
                client_name: str = "musicmill", port_name: str = "out") -> OutputPort:
    """Open an output by name (exact or unique substring; None: the first), or create a
    virtual output called ``name``."""
    try:
        rt, full = _open(rtmidi.MidiOut, name, backend, virtual, client_name, port_name)
    except (rtmidi.RtMidiError, RuntimeError) as exc:
        raise PortError(f"cannot open MIDI output {name!r}: {exc}") from exc
    return OutputPort(rt, full, virtual)


class PortWatcher:
    """Keeps a port open across unplug/replug: polls the port list every ``interval_s``.

    When no port matches ``query`` the watcher logs it, calls ``on_disconnect(name)`` and
    closes the port, and keeps polling; when a matching port (re)appears it opens it and
    calls ``on_connect(port)``. ``kind`` is ``input`` or ``output``. The first check runs
    inside :meth:`start`, so a port that exists is open when ``start`` returns.
    """

    def __init__(self, query: str, *, kind: str = "input", backend: str = "jack",
                 interval_s: float = 0.5, client_name: str = "musicmill",
                 on_connect: Callable[[InputPort | OutputPort], None] | None = None,
                 on_disconnect: Callable[[str], None] | None = None,
                 opener: Callable[[str], InputPort | OutputPort] | None = None,
                 lister: Callable[[], list[str]] | None = None) -> None:
        if kind not in ("input", "output"):
            raise ValueError(f"kind {kind!r} must be 'input' or 'output'")
        self.query = query
        self.kind = kind
        self.backend = backend
        self.interval_s = interval_s
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.port: InputPort | OutputPort | None = None
        self.reconnects = 0  # how many times a lost port came back
        self._client_name = client_name
        self._opener = opener
        self._lister = lister
        self._list_rt = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lost = False

    def start(self) -> PortWatcher:
        """Check once now, then keep checking on a daemon thread."""
        self.check()
        self._thread = threading.Thread(target=self._loop, name=f"midi-watch-{self.query}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching and close the port."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._close_port()
        if self._list_rt is not None:
            self._list_rt.delete()
            self._list_rt = None

    def __enter__(self) -> PortWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _names(self) -> list[str]:
        if self._lister is not None:
            return list(self._lister())
        # one long-lived listing client: a new one per poll would churn the JACK graph
        if self._list_rt is None:
            cls = rtmidi.MidiIn if self.kind == "input" else rtmidi.MidiOut
            self._list_rt = _rt(cls, self.backend, f"{self._client_name}-watch")
        return list(self._list_rt.get_ports())

    def _open(self, name: str) -> InputPort | OutputPort:
        if self._opener is not None:
            return self._opener(name)
        if self.kind == "input":
            return open_input(name, backend=self.backend, client_name=self._client_name)
        return open_output(name, backend=self.backend, client_name=self._client_name)

    def check(self) -> None:
        """One poll: close a vanished port, open a (re)appeared one. Never raises."""
        try:
            names = self._names()
        except Exception as exc:  # the server went away: treat as "no ports"
            log.warning("MIDI port list failed: %s", exc)
            names = []
            if self._list_rt is not None:  # a fresh listing client next time
                try:
                    self._list_rt.delete()
                except Exception:
                    pass
                self._list_rt = None
        current = self.port
        if current is not None and current.name not in names:
            log.warning("MIDI port %s disappeared; waiting for it to return", current.name)
            self._close_port()
            self._lost = True
        if self.port is None:
            found = find_port(self.query, names)
            if found is None:
                return
            try:
                port = self._open(found)
            except Exception as exc:
                log.warning("MIDI port %s is listed but did not open: %s", found, exc)
                return
            self.port = port
            if self._lost:
                self.reconnects += 1
                log.warning("MIDI port %s is back", port.name)
            if self.on_connect is not None:
                try:
                    self.on_connect(port)
                except Exception:
                    log.exception("MIDI on_connect callback failed")

    def _close_port(self) -> None:
        port, self.port = self.port, None
        if port is None:
            return
        if self.on_disconnect is not None:
            try:
                self.on_disconnect(port.name)  # first: users drop their reference
            except Exception:
                log.exception("MIDI on_disconnect callback failed")
        try:
            port.close()
        except Exception as exc:
            log.warning("closing MIDI port %s failed: %s", port.name, exc)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.check()
