"""JACK around PortAudio: a dummy server when there is no audio hardware, our client's
name, and its connections.

The dummy driver is clocked like a real card, so real-time behaviour (late blocks,
callback time) is measured for real; it just has no speakers behind it. Every JACK client
(PortAudio, python-rtmidi, the ``jack_*`` tools) talks to the server named by
``JACK_DEFAULT_SERVER`` (``default`` when unset), so the tests run theirs under a name of
their own and never meet a performer's running server.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess
import time
from collections.abc import Iterator

STOP_TIMEOUT_S = 10.0


def server_running() -> bool:
    """True if a JACK server answers (``jack_lsp`` exits 0 only then)."""
    if shutil.which("jack_lsp") is None:
        return False
    env_no_autostart = {**os.environ, "JACK_NO_START_SERVER": "1"}
    result = subprocess.run(["jack_lsp"], capture_output=True, env=env_no_autostart, timeout=10)
    return result.returncode == 0


def start_dummy(sample_rate_hz: int = 48000, blocksize: int = 128,
                timeout_s: float = 10.0) -> subprocess.Popen:
    """Start ``jackd -d dummy``; raises RuntimeError with the exact command if it fails."""
    if shutil.which("jackd") is None:
        raise RuntimeError("jackd not found: install it with `apt-get install -y jackd2`")
    name = os.environ.get("JACK_DEFAULT_SERVER")
    cmd = ["jackd", *(["-n", name] if name else []), "-R", "-P", "70", "-d", "dummy",
           "-r", str(sample_rate_hz), "-p", str(blocksize)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            # no SCHED_FIFO for this user: run without real-time priority rather than fail
            if "-R" in cmd:
                cmd.remove("-R")
                cmd[cmd.index("-P"): cmd.index("-P") + 2] = []
                proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                continue
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"`{' '.join(cmd)}` exited: {err.strip()[-300:]}")
        if server_running():
            return proc
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"`{' '.join(cmd)}` did not come up within {timeout_s:g} s")


@contextlib.contextmanager
def dummy_server(sample_rate_hz: int = 48000, blocksize: int = 128) -> Iterator[None]:
    """A JACK server for the block inside: ours (dummy driver, PortAudio rescanned so it
    sees it, stopped after) when none is running, else the one that is."""
    proc = None
    if not server_running():
        proc = start_dummy(sample_rate_hz, blocksize)
        rescan_portaudio()
    try:
        yield
    finally:
        if proc is not None:
            stop_server(proc)


def release_portaudio() -> None:
    """Close PortAudio's JACK client while the server still runs.

    PortAudio asserts (and aborts the process at exit) if its JACK client is closed
    after the server went away, so call this before stopping a server we started.
    """
    import sounddevice as sd

    while sd._initialized:
        sd._terminate()


def stop_server(proc: subprocess.Popen) -> None:
    """Stop a server from ``start_dummy`` without leaving PortAudio attached to it.

    jackd normally exits on SIGTERM at once; one that has not within ``STOP_TIMEOUT_S``
    (seen once in CI, at the end of a full test run) is killed, so no server outlives us.
    """
    release_portaudio()
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def rescan_portaudio() -> None:
    """Make PortAudio enumerate devices again (after a JACK server appeared)."""
    import sounddevice as sd

    sd._terminate()
    sd._initialize()


def midi_backend(flag: str) -> str:
    """A ``--midi-backend`` flag resolved: ``auto`` -> ``jack`` when a JACK server answers,
    else ``alsa``; the others pass through."""
    if flag != "auto":
        return flag
    return "jack" if server_running() else "alsa"


_client_name_keepalive: list[bytes] = []  # PortAudio keeps the pointer, not a copy


def name_portaudio_client(name: str) -> None:
    """Make this process's PortAudio open its JACK client as ``name`` (not "PortAudio").

    PortAudio opens its JACK client when it initialises, so an initialised PortAudio is
    re-initialised here (call it before opening a stream).
    """
    import sounddevice as sd

    encoded = name.encode()
    _client_name_keepalive.append(encoded)
    lib = ctypes.CDLL(sd._libname)
    lib.PaJack_SetClientName.argtypes = [ctypes.c_char_p]
    if lib.PaJack_SetClientName(encoded) != 0:
        raise RuntimeError(f"PortAudio refused the JACK client name {name!r}")
    rescan_portaudio()


def connections() -> dict[str, set[str]]:
    """Every JACK port and the ports it is connected to (``jack_lsp -c``); empty without a
    server."""
    done = subprocess.run(["jack_lsp", "-c"], capture_output=True, text=True,
                          env={**os.environ, "JACK_NO_START_SERVER": "1"})
    ports: dict[str, set[str]] = {}
    current = None
    for line in done.stdout.splitlines():
        if line.startswith(" ") and current is not None:  # a connection of the port above
            ports[current].add(line.strip())
        elif line.strip():
            current = line.strip()
            ports[current] = set()
    return ports


def client_ports(client: str) -> list[str]:
    return sorted(p for p in connections() if p.startswith(f"{client}:"))


def disconnect(ports: list[str]) -> None:
    """Remove every connection of ``ports``."""
    links = connections()
    for port in ports:
        for peer in links.get(port, ()):
            subprocess.run(["jack_disconnect", port, peer], capture_output=True)


def isolate(client: str) -> None:
    """Disconnect every port of ``client`` (PortAudio connects new streams to ``system``)."""
    disconnect(client_ports(client))
