"""Frames of the network's heads to notes, one frame at a time (streaming).

Per frame and key the network gives onset and frame-activity probabilities, a fine offset
and a velocity. A note starts where a key's onset probability crosses ``onset_threshold``
(armed again once it falls below 60 % of it), or where its activity rises through
``frame_threshold`` with no note sounding on it or beside it (a soft attack the onset head
missed); a key struck again while it sounds (an onset over ``restrike_threshold``) ends
the sounding note first. A sounding note
follows its pitch: the key plus the fine offset, moving to a neighbouring key when that one
takes over (a slide) and no other note holds it; a pitch change over 3 cents becomes a bend
point. It ends after ``release_frames`` frames below ``release_threshold``; one that ends
within ``MIN_NOTE_FRAMES`` was an attack's flicker and is not kept. An onset on a frame
whose level (:func:`models.continuo.frontend.level_db`, when the stream gives it) fell
``FALL_DB`` below the last ``FALL_FRAMES`` frames' loudest is a note's end, not an attack:
the head fires now and then as a tone stops (measured on a bare sine: every attack rose
15-41 dB, the onsets at its ends fell 24-28 dB), and it starts nothing. Times are the
middle of the hop where the note was decided (the network was taught to fire within 43 ms
of the attack), and every note-on also records when it was decided: the input time of the
block that completed the frame when a stream sets ``clock_s``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from models.continuo.frontend import HOP, RATE_HZ
from models.continuo.layout import LOW_KEY, N_KEYS
from models.continuo.notes import Note

HOP_S = HOP / RATE_HZ
BEND_STEP_ST = 0.03
MIN_NOTE_FRAMES = 3  # 32 ms: a note ended sooner is sent (it was live) but not kept
FALL_DB = 12.0
FALL_FRAMES = 3


@dataclass
class Event:
    """What the decoder decided on one frame: ``kind`` "on", "bend" or "off" for the note
    ``note_id`` at float MIDI ``pitch`` (velocity in (0, 1] for "on")."""

    kind: str
    note_id: int
    pitch: float
    velocity: float = 0.0


@dataclass
class _Sounding:
    note: Note
    note_id: int
    key: int  # the key (0-87) it follows now
    start_frame: int = 0
    decided_s: float = 0.0
    below: int = 0
    pitches: list[float] = field(default_factory=list)


class StreamingDecoder:
    """Turns activated head frames (4 * 88,) into :class:`Event` lists and finished notes."""

    def __init__(self, onset_threshold: float = 0.5, frame_threshold: float = 0.5,
                 release_threshold: float = 0.3, release_frames: int = 2,
                 restrike_threshold: float = 0.9) -> None:
        self.onset_threshold = onset_threshold
        # a key already sounding is struck again only on a surer onset: a held note's
        # partials stir its onset when other notes start
        self.restrike_threshold = max(restrike_threshold, onset_threshold)
        self.frame_threshold = frame_threshold
        self.release_threshold = release_threshold
        self.release_frames = release_frames
        # when set (by the stream feeding us), the input time now: a note-on's decision
        # time, which then includes every buffer before the front end (the resampler's)
        self.clock_s: float | None = None
        self.reset()

    def reset(self) -> None:
        self.frame = 0
        self.armed = np.ones(N_KEYS, bool)
        self.previous = np.zeros(N_KEYS, np.float32)  # the last frame's activity
        self.sounding: dict[int, _Sounding] = {}
        self.finished: list[Note] = []
        self.decided_s: list[float] = []  # per finished note: when its note-on was decided
        self.next_id = 0
        self.recent_db: list[float] = []

    def _falling(self, level_db: float | None) -> bool:
        """Whether this frame's level fell ``FALL_DB`` below the last few frames'."""
        if level_db is None:
            return False
        falling = bool(self.recent_db) and level_db < max(self.recent_db) - FALL_DB
        self.recent_db = [*self.recent_db[1 - FALL_FRAMES:], float(level_db)]
        return falling

    def _t(self, frame: float) -> float:
        return frame * HOP_S

    def step(self, heads: np.ndarray, level_db: float | None = None) -> list[Event]:
        """Decide on one frame of activated heads ``(4 * 88,)`` (and its level)."""
        onset, active, offset, velocity = heads.reshape(4, N_KEYS)
        t = self.frame
        events: list[Event] = []
        events += self._follow(active, offset, onset, t)
        self.armed |= onset < 0.6 * self.onset_threshold
        struck = (onset >= self.onset_threshold) & self.armed & (not self._falling(level_db))
        rising = (active >= self.frame_threshold) & (self.previous < self.frame_threshold)
        self.previous = active.copy()
        for k in np.flatnonzero(struck | rising):
            if struck[k]:
                self.armed[k] = False
                if k in self.sounding and onset[k] < self.restrike_threshold:
                    continue
            elif k in self.sounding or (k - 1) in self.sounding or (k + 1) in self.sounding:
                continue  # activity alone never re-strikes, nor starts beside a sounding note
            if self._slide_neighbour(k, t):
                continue
            if k in self.sounding:
                events.append(self._end(k, t))
            events.append(self._start(k, t, offset, velocity))
        self.frame += 1
        return events

    def _start(self, k: int, t: int, offset: np.ndarray, velocity: np.ndarray) -> Event:
        """A note on key ``k`` from frame ``t`` (decided now)."""
        pitch = LOW_KEY + k + float(offset[k])
        vel = float(np.clip(velocity[k], 0.05, 1.0))
        note = Note(self._t(t + 0.5), self._t(self.frame + 1.0), pitch, vel, [])
        decided = self._t(self.frame + 1.0) if self.clock_s is None else self.clock_s
        self.sounding[k] = _Sounding(note, self.next_id, k, t, decided, pitches=[pitch])
        self.next_id += 1
        return Event("on", self.next_id - 1, pitch, vel)

    def _slide_neighbour(self, k: int, t: int) -> bool:
        """A neighbour that started within 3 frames owns this onset (one attack seen on
        two keys)."""
        return any(s.start_frame >= t - 3 for j in (k - 1, k + 1)
                   if (s := self.sounding.get(j)) is not None)

    def _follow(self, active: np.ndarray, offset: np.ndarray, onset: np.ndarray, t: int
                ) -> list[Event]:
        events = []
        taken = set(self.sounding)
        for k, s in list(self.sounding.items()):
            key = s.key
            for j in (s.key - 1, s.key + 1):  # a slide: a free neighbour takes over
                if (0 <= j < N_KEYS and j not in taken and active[j] > active[key]
                        and active[j] >= self.release_threshold
                        and onset[j] < self.onset_threshold):
                    key = j
            taken.discard(s.key)
            taken.add(key)
            s.key = key
            if active[key] < self.release_threshold:
                s.below += 1
                if s.below >= self.release_frames:
                    events.append(self._end(k, t + 1 - self.release_frames))
                continue
            s.below = 0
            events += self._bend(s, LOW_KEY + key + float(offset[key]), t)
        self.sounding = {s.key: s for s in self.sounding.values()}
        return events

    def _bend(self, s: _Sounding, pitch: float, t: int) -> list[Event]:
        """``s`` sounds at ``pitch`` on frame ``t``: a bend event once it moved 3 cents."""
        s.note.end_s = self._t(t + 1.0)
        s.pitches.append(pitch)
        last = s.note.bends[-1][1] if s.note.bends else s.note.pitch
        if abs(pitch - last) <= BEND_STEP_ST:
            return []
        s.note.bends.append((self._t(t + 1.0), pitch))
        return [Event("bend", s.note_id, pitch)]

    def _end(self, k: int, t: int) -> Event:
        s = self.sounding.pop(k)
        s.note.end_s = max(self._t(t + 0.5), s.note.start_s + HOP_S)
        s.note.pitch = float(np.median(s.pitches))
        if t - s.start_frame >= MIN_NOTE_FRAMES:  # shorter: an attack's flicker, not a note
            self.finished.append(s.note)
            self.decided_s.append(s.decided_s)
        return Event("off", s.note_id, s.note.pitch)

    def flush(self) -> list[Event]:
        """End every sounding note (end of the input)."""
        return [self._end(k, self.frame) for k in list(self.sounding)]

    def notes(self) -> tuple[list[Note], list[float]]:
        """Finished notes by start, and when each one's note-on was decided."""
        order = sorted(range(len(self.finished)),
                       key=lambda i: (self.finished[i].start_s, self.finished[i].pitch))
        return [self.finished[i] for i in order], [self.decided_s[i] for i in order]


class MonoDecoder(StreamingDecoder):
    """One note at a time (voice, violin, flute): the note follows the most active key.

    A note starts where the strongest key's activity reaches ``frame_threshold`` (or its
    onset fires) and ends after ``release_frames`` frames with every key below
    ``release_threshold``. When another key leads for ``STABLE_FRAMES`` frames (at once when
    its onset fires), the note changes there; a lead change in the note's first
    ``EARLY_FRAMES`` frames, or within two semitones in its first ``SETTLE_FRAMES``, is the
    note settling (an attack's transient, a slide in: its key moves, its start stays). An
    onset over ``restrike_threshold`` on the sounding key re-articulates it (a re-bowed,
    re-tongued or re-sung note).
    """

    STABLE_FRAMES = 2
    EARLY_FRAMES = 5  # 53 ms: any lead change this early is the attack settling
    SETTLE_FRAMES = 14  # 150 ms

    def reset(self) -> None:
        super().reset()
        self.candidate = -1
        self.candidate_from = 0
        self.quiet = 0

    def step(self, heads: np.ndarray, level_db: float | None = None) -> list[Event]:
        onset, active, offset, velocity = heads.reshape(4, N_KEYS)
        t = self.frame
        k = int(np.argmax(active))
        falling = self._falling(level_db)  # every frame: it keeps the recent levels
        self.armed |= onset < 0.6 * self.onset_threshold
        fired = bool(onset[k] >= self.onset_threshold and self.armed[k] and not falling)
        if fired:
            self.armed[k] = False
        s = next(iter(self.sounding.values()), None)
        events: list[Event] = []
        if active[k] < self.release_threshold:
            self.quiet += 1
            if s is not None and self.quiet >= self.release_frames:
                events.append(self._end(s.key, t + 1 - self.release_frames))
        elif s is None:
            self.quiet = 0
            if fired or active[k] >= self.frame_threshold:
                events.append(self._start(k, t, offset, velocity))
        else:
            self.quiet = 0
            events += self._lead(s, k, t, fired, onset, offset, velocity)
        self.frame += 1
        return events

    def _lead(self, s: _Sounding, k: int, t: int, fired: bool, onset: np.ndarray,
              offset: np.ndarray, velocity: np.ndarray) -> list[Event]:
        """The sounding note ``s`` while key ``k`` leads."""
        if k == s.key:
            self.candidate = -1
            if (fired and onset[k] >= self.restrike_threshold
                    and t - s.start_frame > self.STABLE_FRAMES):
                return [self._end(k, t), self._start(k, t, offset, velocity)]
            return self._bend(s, LOW_KEY + k + float(offset[k]), t)
        if k != self.candidate:
            self.candidate, self.candidate_from = k, t
        if not fired and t - self.candidate_from + 1 < self.STABLE_FRAMES:
            return []
        age = self.candidate_from - s.start_frame
        if age <= self.EARLY_FRAMES or (not fired and abs(k - s.key) <= 2
                                         and age <= self.SETTLE_FRAMES):
            self.sounding = {k: s}  # settling after a slide in: the same note
            s.key = k
            return self._bend(s, LOW_KEY + k + float(offset[k]), t)
        start = min(self.candidate_from, t)
        self.candidate = -1
        return [self._end(s.key, start), self._start(k, start, offset, velocity)]


def decoder_for(instrument: str, **thresholds) -> StreamingDecoder:
    """The decoder an instrument's profile calls for: one note at a time for a voice, a
    violin or a flute, any number for a piano, a guitar or ``auto``."""
    from models.continuo.document import PROFILES

    cls = StreamingDecoder if PROFILES[instrument].polyphonic else MonoDecoder
    return cls(**thresholds)
