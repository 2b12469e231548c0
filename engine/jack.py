"""Start a JACK dummy server when there is no audio hardware (CI, headless machines).

The dummy driver is clocked like a real card, so real-time behaviour (late blocks,
callback time) is measured for real; it just has no speakers behind it.
"""

from __future__ import annotations

import shutil
import subprocess
import time

STOP_TIMEOUT_S = 10.0


def server_running() -> bool:
    """True if a JACK server answers (``jack_lsp`` exits 0 only then)."""
    if shutil.which("jack_lsp") is None:
        return False
    env_no_autostart = {"JACK_NO_START_SERVER": "1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(["jack_lsp"], capture_output=True, env=env_no_autostart, timeout=10)
    return result.returncode == 0


def start_dummy(sample_rate_hz: int = 48000, blocksize: int = 128,
                timeout_s: float = 10.0) -> subprocess.Popen:
    """Start ``jackd -d dummy``; raises RuntimeError with the exact command if it fails."""
    if shutil.which("jackd") is None:
        raise RuntimeError("jackd not found: install it with `apt-get install -y jackd2`")
    cmd = ["jackd", "-R", "-P", "70", "-d", "dummy",
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
