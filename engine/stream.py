"""Open PortAudio with the cfunc callback (sounddevice's cffi handle, no Python callback)."""

from __future__ import annotations

import sys

import sounddevice as sd

from engine import layout
from engine.callback import pa_callback
from engine.engine import Engine
from engine.memory import lock_callback_pages

LIVE_SWITCH_INTERVAL_S = 0.001


class LiveStream:
    """A duplex (or output-only) PortAudio stream whose callback is ``pa_callback``."""

    def __init__(self, engine: Engine, input_device=None, output_device=None,
                 latency: str | float = "low") -> None:
        self.engine = engine
        ffi, lib = sd._ffi, sd._lib
        in_ch = int(engine.config[layout.C_IN_CH])
        out_ch = int(engine.config[layout.C_OUT_CH])
        sr = engine.sample_rate_hz
        in_params = ffi.NULL
        if in_ch > 0:
            in_params, _, _, _ = sd._get_stream_parameters(
                "input", input_device, in_ch, "float32", latency, None, sr)
        out_params, _, _, _ = sd._get_stream_parameters(
            "output", output_device, out_ch, "float32", latency, None, sr)
        self._stream_pp = ffi.new("PaStream**")
        self._callback = ffi.cast("PaStreamCallback*", pa_callback.address)
        self._user = ffi.cast("void*", engine.table.ctypes.data)
        # Under JACK the server fixes the period; asking PortAudio for a fixed block on top
        # makes it buffer one more block each way (measured: the trigger path read 128
        # frames later live than offline, and 0 later with "unspecified"). Elsewhere the
        # engine's block size is requested so callbacks stay within MAX_BLOCK_FRAMES.
        frames = 0 if _is_jack(out_params.device) else engine.blocksize
        sd._check(lib.Pa_OpenStream(
            self._stream_pp, in_params, out_params, sr, frames,
            lib.paClipOff | lib.paDitherOff, self._callback, self._user),
            "opening the audio stream")
        self._stream = self._stream_pp[0]
        self._open = True
        self.memory_locked_mb = 0.0
        info = lib.Pa_GetStreamInfo(self._stream)
        # kept: stats written after the stream closes still report what it ran with
        self._latency_ms = (1e3 * info.inputLatency, 1e3 * info.outputLatency)

    def start(self) -> None:
        # A short switch interval lets the worker thread get the GIL quickly when the GUI
        # or MIDI threads are busy; the callback itself never needs the GIL.
        sys.setswitchinterval(LIVE_SWITCH_INTERVAL_S)
        self.engine.start_threads()
        # Lock what the callback can touch (engine arrays, compiled code, its libraries) into
        # RAM so it never waits on a page fault; without permission we run unlocked.
        self.memory_locked_mb = lock_callback_pages() / 2**20
        sd._check(sd._lib.Pa_StartStream(self._stream), "starting the audio stream")

    def stop(self) -> None:
        if not self._open:
            return
        sd._lib.Pa_StopStream(self._stream)
        sd._lib.Pa_CloseStream(self._stream)
        self._open = False
        self.engine.stop_threads()

    def cpu_load(self) -> float:
        return float(sd._lib.Pa_GetStreamCpuLoad(self._stream)) if self._open else 0.0

    def latency_ms(self) -> tuple[float, float]:
        """PortAudio's reported (input, output) latency in ms, as opened."""
        return self._latency_ms

    def snapshot(self) -> dict:
        """Engine stats plus PortAudio's own CPU load and latencies."""
        out = self.engine.snapshot()
        in_ms, out_ms = self.latency_ms()
        out["cpu_load"] = self.cpu_load()
        out["memory_locked_mb"] = round(self.memory_locked_mb, 1)
        lat = out["latency"]
        lat["portaudio_input_ms"] = in_ms
        lat["portaudio_output_ms"] = out_ms
        lookahead_ms = 1e3 * lat["master_lookahead_frames"] / self.engine.sample_rate_hz
        lat["dry_path_ms"] = in_ms + out_ms + lookahead_ms + lat["input_denoise_ms"]
        if "worker_engine_ms" in lat:  # mic to speaker through the worker (model) path
            lat["worker_path_ms"] = in_ms + out_ms + lat["worker_engine_ms"]
        return out

    def __enter__(self) -> LiveStream:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _is_jack(device_index: int) -> bool:
    """Whether PortAudio device ``device_index`` belongs to the JACK host API."""
    hostapi = sd.query_devices(device_index)["hostapi"]
    return "JACK" in sd.query_hostapis(hostapi)["name"]
