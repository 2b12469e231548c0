"""Run as a script: espeak-ng (its C library) speaks one text; prints phonemes and audio.

``python espeak_events.py TEXT VOICE PITCH SPEED AMPLITUDE`` writes one JSON line, the
phonemes as ``[mnemonic, start sample, word number]``, then the audio as raw int16 (native
byte order) at the library's rate. The library keeps state from one text to the next (the
same text comes out slightly different after another voice), so every text gets a fresh
process: a render depends on its arguments only, as the command line's does. Imports
nothing beyond the standard library, so it starts fast.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import sys

RATE_HZ = 22050
_EV_WORD, _EV_PHONEME = 1, 7
_AUDIO_OUTPUT_SYNCHRONOUS, _INITIALIZE_PHONEME_EVENTS = 2, 1
_RATE, _VOLUME, _PITCH = 1, 2, 3
_PHONEMES = 0x100  # espeakPHONEMES: [[...]] phoneme input


class _Id(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p),
                ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):  # espeak_EVENT, speak_lib.h
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _Id)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


def speak(text: str, voice: str, pitch: int, speed_wpm: int, amplitude: int
          ) -> tuple[bytes, list]:
    """int16 audio bytes at RATE_HZ and the phonemes of ``text``."""
    path = ctypes.util.find_library("espeak-ng")
    if path is None:
        raise RuntimeError("libespeak-ng is not installed (apt-get install espeak-ng)")
    lib = ctypes.CDLL(path)
    audio, phones, word = [], [], [0]

    def on_synth(wav, n, events) -> int:
        if n > 0:
            audio.append(ctypes.string_at(wav, 2 * n))
        i = 0
        while events[i].type != 0:
            e = events[i]
            if e.type == _EV_WORD:
                word[0] += 1
            elif e.type == _EV_PHONEME:
                phones.append([e.id.string.decode("ascii", "replace"), int(e.sample), word[0]])
            i += 1
        return 0

    callback = _CALLBACK(on_synth)
    rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, _INITIALIZE_PHONEME_EVENTS)
    if rate != RATE_HZ:
        raise RuntimeError(f"libespeak-ng runs at {rate} Hz, expected {RATE_HZ}")
    lib.espeak_SetSynthCallback(callback)
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise ValueError(f"espeak-ng has no voice {voice!r}")
    lib.espeak_SetParameter(_RATE, int(speed_wpm), 0)
    lib.espeak_SetParameter(_PITCH, int(pitch), 0)
    lib.espeak_SetParameter(_VOLUME, int(amplitude), 0)
    data = text.encode() + b"\0"
    lib.espeak_Synth(ctypes.c_char_p(data), len(data), 0, 1, 0, _PHONEMES, None, None)
    lib.espeak_Synchronize()
    return b"".join(audio), phones


def main(argv: list[str]) -> int:
    text, voice, pitch, speed, amplitude = argv
    audio, phones = speak(text, voice, int(pitch), int(speed), int(amplitude))
    out = sys.stdout.buffer
    out.write(json.dumps(phones).encode() + b"\n")
    out.write(audio)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
