"""MIDI out of the beatbox trigger: each hit as a GM drum note, plus clock that follows tempo.

A small thread polls the engine's hits ring (written by the audio callback) every
``POLL_S``, so a hit reaches the port within a few milliseconds of the block that found
it. Kick and snare send note-on and, ``NOTE_LENGTH_S`` later, note-off; a hat sends the
open hat's note-on at its onset and note-off when the performer's "ts"/"tsss" ends (the
trigger's release), so receivers that honour note-off follow the hat's length. Notes go
out on GM channel 10. With ``clock`` the thread also keeps the MIDI clock at the engine's
``tempo_bpm`` (set by tap, MIDI clock in, presets or MIDI CC). With ``voice`` (a
:class:`midi.voice_out.VoiceToMidi`) the same thread also sends the transcribed voice's
notes from the engine's voice-notes ring, or with ``neural`` (a
:class:`midi.neural_out.NeuralToMidi`) the neural transcriber's.
"""

from __future__ import annotations

import threading
import time

from dsp import beatbox, drums
from midi.gm_drums import GM_DRUM_CHANNEL, VOICE_NOTES
from midi.neural_out import NeuralToMidi
from midi.output import MidiOutput
from midi.voice_out import VoiceToMidi
from presets.registry import INDEX

POLL_S = 0.002
NOTE_LENGTH_S = 0.05
# the GM note each drum voice (dsp.drums index) sends
NOTE_OF_VOICE = {drums.VOICE_NAMES.index(name): note for name, note in VOICE_NOTES.items()}


class HitsToMidi:
    """Forward ``engine.read_hits()`` to ``output`` as drum notes (see module doc)."""

    def __init__(self, engine, output: MidiOutput, clock: bool = False,
                 voice: VoiceToMidi | None = None, neural: NeuralToMidi | None = None) -> None:
        self.engine = engine
        self.output = output
        self.clock = clock
        self.voice = voice
        self.neural = neural  # the neural transcriber's notes (instead of ``voice``)
        self.sent = 0  # note-ons sent
        self._pending_off: list[tuple[float, int]] = []  # (due time, note)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="musicmill-midi-out",
                                        daemon=True)

    def start(self) -> HitsToMidi:
        if self.clock:
            self.output.start_clock(self._tempo())
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        for _, note in self._pending_off:
            self._send_off(note)
        self._pending_off.clear()
        if self.voice is not None:
            self.voice.end()
        if self.neural is not None:
            self.neural.pump()
            self.neural.end()

    def _tempo(self) -> float:
        return float(self.engine.params.target[INDEX["tempo_bpm"]])

    def _send_on(self, note: int, velocity: float) -> None:
        self.output.port.send([0x90 | GM_DRUM_CHANNEL, note, max(1, min(127, round(
            127 * velocity)))])
        self.sent += 1

    def _send_off(self, note: int) -> None:
        self.output.port.send([0x80 | GM_DRUM_CHANNEL, note, 0])

    def forward(self, rows, now_s: float) -> None:
        """Send the notes for trigger event ``rows`` (``(k, EV_SIZE)``) at ``now_s``."""
        for row in rows:
            voice = int(row[beatbox.EV_VOICE])
            note = NOTE_OF_VOICE.get(voice)
            if note is None:
                continue  # "other": nothing played, nothing sent
            if row[beatbox.EV_KIND] == beatbox.EV_RELEASE:
                self._send_off(note)
                continue
            self._send_on(note, float(row[beatbox.EV_VELOCITY]))
            if voice != drums.HAT_OPEN:  # a hat's note-off comes with its release
                self._pending_off.append((now_s + NOTE_LENGTH_S, note))

    def _loop(self) -> None:
        while not self._stop.wait(POLL_S):
            now = time.monotonic()
            self.forward(self.engine.read_hits(), now)
            if self.voice is not None:
                self.voice.forward(self.engine.read_voice_notes())
            if self.neural is not None:
                self.neural.pump()
            due = [p for p in self._pending_off if p[0] <= now]
            if due:
                self._pending_off = [p for p in self._pending_off if p[0] > now]
                for _, note in due:
                    self._send_off(note)
            if self.clock and self.output.clock is not None:
                tempo = self._tempo()
                if abs(self.output.clock.bpm - tempo) > 1e-6:
                    self.output.clock.bpm = tempo
