"""Continuo documents as MPE MIDI files, and back.

Export (MIDI Polyphonic Expression, lower zone): channel 1 is the master channel, carrying
the MPE configuration (RPN 6: 15 member channels); every note gets a member channel of its
own (2-16, the one released longest ago), so each note's pitch curve is its channel's pitch
bend and its dynamics curve its channel pressure, and overlapping notes bend
independently. The member channels' bend range is set by RPN 0 (``BEND_RANGE_ST``, 48
semitones as MPE prescribes: slides of four octaves, 0.6 cent steps). Each stream is its
own track, named after it, with its instrument in a text event. Import reads the same
back: each track a stream, each note its key plus its channel's bend, pressure as dynamics.
Round trip: exact up to the file's steps (1/1920 s, 48/8192 semitone, 1/127 in level).
"""

from __future__ import annotations

from pathlib import Path

import mido

from dsp.bend import bend_range_rpn, bend_value
from dsp.io.atomic import atomic_path
from models.continuo.document import PROFILES, ContError, Document, Note, Stream

TICKS_PER_BEAT = 960
TEMPO_US = 500_000  # 120 BPM: one tick is 1/1920 s
BEND_RANGE_ST = 48.0
MEMBER_CHANNELS = range(1, 16)
INSTRUMENT_PREFIX = "instrument:"


def _tick(t_s: float) -> int:
    return round(t_s * TICKS_PER_BEAT * 1e6 / TEMPO_US)


def _level(v: float) -> int:
    return min(max(round(127 * v), 0), 127)


def _allocate(doc: Document) -> dict[tuple[int, int], int]:
    """(stream, note) → member channel, each note its own while it sounds."""
    free_at = {ch: -1.0 for ch in MEMBER_CHANNELS}  # when each channel's last note ended
    out = {}
    order = sorted(((n.onset_s, s, k) for s, st in enumerate(doc.streams)
                    for k, n in enumerate(st.notes)))
    for onset, s, k in order:
        free = [ch for ch, t in free_at.items() if t <= onset]
        if not free:
            raise ValueError(f"more than {len(MEMBER_CHANNELS)} notes sound at {onset:.3f} s: "
                             "MPE has one member channel per note")
        ch = min(free, key=lambda c: free_at[c])
        out[(s, k)] = ch
        free_at[ch] = doc.streams[s].notes[k].offset_s
    return out


def _note_events(n: Note, ch: int) -> list[tuple[int, int, mido.Message]]:
    key = min(max(round(n.pitch[0][1]), 0), 127)
    on, off = _tick(n.onset_s), max(_tick(n.offset_s), _tick(n.onset_s) + 1)

    def bend(p: float) -> mido.Message:
        return mido.Message("pitchwheel", channel=ch, pitch=bend_value(p - key, BEND_RANGE_ST))

    events = [(on, 1, bend(n.pitch[0][1]))]
    if n.dynamics:
        events.append((on, 1, mido.Message("aftertouch", channel=ch,
                                           value=_level(n.dynamics[0][1]))))
    events.append((on, 2, mido.Message("note_on", channel=ch, note=key,
                                       velocity=min(max(round(127 * n.velocity), 1), 127))))
    for t, p in n.pitch[1:]:
        events.append((min(max(_tick(t), on), off - 1), 3, bend(p)))
    for t, v in n.dynamics[1:]:
        events.append((min(max(_tick(t), on), off - 1), 3,
                       mido.Message("aftertouch", channel=ch, value=_level(v))))
    events.append((off, 0, mido.Message("note_off", channel=ch, note=key)))
    return events


def _track(events: list[tuple[int, int, mido.Message]], head: list) -> mido.MidiTrack:
    events.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack(head)
    last = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - last))
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def write_mpe(doc: Document, path: Path | str) -> None:
    """Write ``doc`` as a type-1 MPE MIDI file (atomically)."""
    channels = _allocate(doc)
    setup = [(0, 0, mido.Message("control_change", channel=0, control=c, value=v))
             for c, v in ((101, 0), (100, 6), (6, len(MEMBER_CHANNELS)), (101, 127),
                          (100, 127))]
    for ch in MEMBER_CHANNELS:
        setup += [(0, 0, mido.Message("control_change", channel=ch, control=c, value=v))
                  for c, v in bend_range_rpn(BEND_RANGE_ST)]
    tracks = [_track(setup, [mido.MetaMessage("set_tempo", tempo=TEMPO_US, time=0)])]
    for s, stream in enumerate(doc.streams):
        events = [e for k, n in enumerate(stream.notes) for e in _note_events(n, channels[(s, k)])]
        tracks.append(_track(events, [
            mido.MetaMessage("track_name", name=stream.name, time=0),
            mido.MetaMessage("text", text=INSTRUMENT_PREFIX + stream.instrument, time=0)]))
    with atomic_path(path) as tmp:
        mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT, tracks=tracks).save(tmp)


def _seconds(mid: mido.MidiFile):
    """tick → seconds through the tempo map of every track's set_tempo events."""
    changes = sorted((tick, msg.tempo) for track in mid.tracks
                     for tick, msg in _absolute(track) if msg.type == "set_tempo")
    points = [(0, 0.0, 500_000)]
    for tick, tempo in changes:
        t0, s0, tempo0 = points[-1]
        points.append((tick, s0 + mido.tick2second(tick - t0, mid.ticks_per_beat, tempo0),
                       tempo))

    def convert(tick: int) -> float:
        t0, s0, tempo = next(p for p in reversed(points) if p[0] <= tick)
        return s0 + mido.tick2second(tick - t0, mid.ticks_per_beat, tempo)
    return convert


def _absolute(track: mido.MidiTrack):
    tick = 0
    for msg in track:
        tick += msg.time
        yield tick, msg


def _read_track(track: mido.MidiTrack, to_s, bend_range: list[float]) -> Stream | None:
    name, instrument = track.name or "", None
    bend = [0.0] * 16
    pressure: dict[int, tuple[float, float]] = {}  # channel → (time, level) last seen
    sounding: dict[tuple[int, int], Note] = {}
    notes: list[Note] = []
    rpn = [[127, 127] for _ in range(16)]
    for tick, msg in _absolute(track):
        t = to_s(tick)
        if msg.type == "text" and msg.text.startswith(INSTRUMENT_PREFIX):
            instrument = msg.text[len(INSTRUMENT_PREFIX):]
        elif msg.type == "control_change" and msg.control in (101, 100):
            rpn[msg.channel][0 if msg.control == 101 else 1] = msg.value
        elif msg.type == "control_change" and msg.control == 6 and rpn[msg.channel] == [0, 0]:
            bend_range[msg.channel] = float(msg.value)
        elif msg.type == "pitchwheel":
            bend[msg.channel] = msg.pitch / 8192.0 * bend_range[msg.channel]
            for (ch, key), n in sounding.items():
                if ch == msg.channel:
                    n.pitch.append((t, key + bend[ch]))
        elif msg.type == "aftertouch":
            pressure[msg.channel] = (t, msg.value / 127.0)
            for (ch, _), n in sounding.items():
                if ch == msg.channel:
                    n.dynamics.append((t, msg.value / 127.0))
        elif msg.type == "note_on" and msg.velocity > 0:
            n = Note(t, t, [(t, msg.note + bend[msg.channel])], msg.velocity / 127.0)
            seen = pressure.get(msg.channel)
            if seen is not None and seen[0] == t:
                n.dynamics.append((t, seen[1]))
            sounding[(msg.channel, msg.note)] = n
            notes.append(n)
        elif msg.type in ("note_off", "note_on"):
            n = sounding.pop((msg.channel, msg.note), None)
            if n is not None:
                n.offset_s = t
    notes = [n for n in notes if n.offset_s > n.onset_s]
    if not notes:
        return None
    if instrument not in PROFILES:
        overlap = any(b.onset_s < a.offset_s for a, b in zip(notes[:-1], notes[1:], strict=True))
        moving = any(len({p for _, p in n.pitch}) > 1 for n in notes)
        instrument = ("guitar" if moving else "piano") if overlap else "voice"
    profile = PROFILES[instrument]
    for n in notes:
        if not profile.pitch_curve:
            n.pitch = n.pitch[:1]
        if not profile.dynamics_curve:
            n.dynamics = []
    return Stream(name or f"track {id(track) % 1000}", instrument, notes)


def read_mpe(path: Path | str) -> Document:
    """A Document from a MIDI file (ours or another's); ContError naming the file when it
    is not a MIDI file."""
    try:
        mid = mido.MidiFile(path)
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        raise ContError(f"{path}: not a readable MIDI file ({exc})") from None
    to_s = _seconds(mid)
    bend_range = [2.0] * 16  # the MIDI default until an RPN 0 says otherwise
    streams = []
    for k, track in enumerate(mid.tracks):
        stream = _read_track(track, to_s, bend_range)
        if stream is not None:
            stream.name = track.name or f"track {k + 1}"
            streams.append(stream)
    return Document(streams)
