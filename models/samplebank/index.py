"""The on-disk bank format: ``index.json``, ``strudel.json`` and ``slices/*.wav``.

Dataclass fields carry the JSON keys' names, except ``Slice.class_`` for the key ``class``
(a Python keyword). :func:`read_index` validates everything a player relies on (format,
version, every field's type and range, that each slice file exists inside the bank) and
raises :class:`BankError` naming the bank and the field; unknown keys are ignored, so a
version-1 reader still reads a version-1 file that carries extra information.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import soundfile as sf

from dsp.io.atomic import _umask
from dsp.io.jsonfile import JsonFileError, read_json
from models.errors import ModelError

FORMAT = "musicmill-bank"
VERSION = 1
SAMPLE_RATE_HZ = 48000
CLASSES = ("tonal", "kick", "snare", "hat")
INDEX_NAME = "index.json"
STRUDEL_NAME = "strudel.json"
SLICES_DIR = "slices"


class BankError(ModelError):
    """A bank directory that cannot be read or written; the message names bank and field."""


@dataclass(frozen=True)
class Slice:
    """One slice: its file (relative to the bank, POSIX separators) and its analysis."""

    file: str
    source: str  # the input path as given on the command line
    start_s: float  # position of the slice's first sample in the source
    duration_s: float
    pitch_hz: float | None
    midi_note: float | None  # 69 + 12 * log2(pitch_hz / 440), fractional
    peak_dbfs: float
    rms_db: float
    loudness_lufs: float | None  # integrated BS.1770, only for slices >= 400 ms
    centroid_hz: float
    class_: str  # JSON key "class": one of CLASSES


@dataclass(frozen=True)
class BankIndex:
    """The contents of ``index.json``."""

    format: str = FORMAT
    version: int = VERSION
    sample_rate_hz: int = SAMPLE_RATE_HZ
    slices: tuple[Slice, ...] = ()


def _finite(v: float) -> bool:
    return math.isfinite(v)


# JSON key -> (dataclass field, accepts null, check on the value, what the check wants)
_SLICE_FIELDS: dict[str, tuple[str, bool, Any, str]] = {
    "file": ("file", False, None, "a path"),
    "source": ("source", False, None, "a string"),
    "start_s": ("start_s", False, lambda v: _finite(v) and v >= 0, "a number >= 0"),
    "duration_s": ("duration_s", False, lambda v: _finite(v) and v > 0, "a number > 0"),
    "pitch_hz": ("pitch_hz", True, lambda v: _finite(v) and v > 0, "a number > 0 or null"),
    "midi_note": ("midi_note", True, _finite, "a number or null"),
    "peak_dbfs": ("peak_dbfs", False, _finite, "a number"),
    "rms_db": ("rms_db", False, _finite, "a number"),
    "loudness_lufs": ("loudness_lufs", True, _finite, "a number or null"),
    "centroid_hz": ("centroid_hz", False, lambda v: _finite(v) and v >= 0, "a number >= 0"),
    "class": ("class_", False, lambda v: v in CLASSES, f"one of {', '.join(CLASSES)}"),
}
_STRING_KEYS = ("file", "source", "class")


def bank_name(bank_dir: str | Path) -> str:
    """The bank's name for Strudel: the folder's name, lowercased, non-alphanumerics -> ``_``."""
    name = Path(bank_dir).resolve().name.lower()
    return re.sub(r"[^a-z0-9]", "_", name) or "bank"


def slice_to_json(s: Slice) -> dict[str, Any]:
    """One slice as its JSON object (keys in the documented order)."""
    return {key: getattr(s, field) for key, (field, _, _, _) in _SLICE_FIELDS.items()}


def index_to_json(index: BankIndex) -> dict[str, Any]:
    """The whole index as the JSON object written to ``index.json``."""
    return {"format": index.format, "version": index.version,
            "sample_rate_hz": index.sample_rate_hz,
            "slices": [slice_to_json(s) for s in index.slices]}


def strudel_map(index: BankIndex, name: str) -> dict[str, Any]:
    """Strudel's sample-map JSON: ``{"_base": "./", "<name>_<class>": [file, ...]}``.

    Strudel's ``samples()`` prefixes every path with ``_base``; the ``<bank>_<sound>`` keys
    let ``s("kick snare").bank("<name>")`` pick them. Lists keep index order, so
    ``s("<name>_tonal:2")`` is the third tonal slice of the index.
    """
    out: dict[str, Any] = {"_base": "./"}
    for cls in CLASSES:
        files = [s.file for s in index.slices if s.class_ == cls]
        if files:
            out[f"{name}_{cls}"] = files
    return out


def _is_number(v: Any) -> bool:
    # bool is an int subclass; true/false in a numeric field is a mistake, not 1/0
    return isinstance(v, int | float) and not isinstance(v, bool)


def _check_file(bank: Path, where: str, value: str) -> None:
    rel = PurePosixPath(value)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or "\\" in value:
        raise BankError(f"bank {bank}: {where}: {value!r} is not a relative path inside the bank")
    if not (bank / rel).is_file():
        raise BankError(f"bank {bank}: {where}: {value!r}: no such file")


def _slice_from_json(bank: Path, i: int, obj: Any) -> Slice:
    where = f"slices[{i}]"
    if not isinstance(obj, dict):
        raise BankError(f"bank {bank}: {where}: expected an object, got {type(obj).__name__}")
    values: dict[str, Any] = {}
    for key, (field, nullable, check, wants) in _SLICE_FIELDS.items():
        if key not in obj:
            raise BankError(f"bank {bank}: {where}.{key}: missing")
        v = obj[key]
        if v is None and nullable:
            values[field] = None
            continue
        ok = isinstance(v, str) if key in _STRING_KEYS else _is_number(v)
        if ok and check is not None:
            ok = bool(check(v))
        if not ok or (key in _STRING_KEYS and not v):
            raise BankError(f"bank {bank}: {where}.{key}: expected {wants}, got {v!r}")
        values[field] = v if key in _STRING_KEYS else float(v)
    if (values["pitch_hz"] is None) != (values["midi_note"] is None):
        raise BankError(f"bank {bank}: {where}.midi_note: must be null exactly when pitch_hz is")
    _check_file(bank, f"{where}.file", values["file"])
    return Slice(**values)


def index_from_json(bank: Path, data: Any) -> BankIndex:
    """Validate a parsed ``index.json`` of the bank at ``bank``; raise :class:`BankError`."""
    if not isinstance(data, dict):
        raise BankError(f"bank {bank}: {INDEX_NAME}: expected a JSON object")
    if data.get("format") != FORMAT:
        raise BankError(f"bank {bank}: format: expected {FORMAT!r}, got {data.get('format')!r}")
    version = data.get("version")
    if not (isinstance(version, int) and not isinstance(version, bool)) or version != VERSION:
        raise BankError(f"bank {bank}: version: {version!r} is not supported "
                        f"(this MusicMill reads version {VERSION})")
    rate = data.get("sample_rate_hz")
    if not (isinstance(rate, int) and not isinstance(rate, bool)) or rate <= 0:
        raise BankError(f"bank {bank}: sample_rate_hz: expected a positive integer, got {rate!r}")
    slices = data.get("slices")
    if not isinstance(slices, list):
        raise BankError(f"bank {bank}: slices: expected a list, got {slices!r}")
    parsed = tuple(_slice_from_json(bank, i, obj) for i, obj in enumerate(slices))
    seen: set[str] = set()
    for i, s in enumerate(parsed):
        if s.file in seen:
            raise BankError(f"bank {bank}: slices[{i}].file: {s.file!r} is listed twice")
        seen.add(s.file)
    return BankIndex(format=FORMAT, version=version, sample_rate_hz=rate, slices=parsed)


def read_index(bank_dir: str | Path) -> BankIndex:
    """Read and validate ``BANK_DIR/index.json``; :class:`BankError` names bank and field."""
    bank = Path(bank_dir)
    if not bank.is_dir():
        raise BankError(f"bank {bank}: no such directory")
    path = bank / INDEX_NAME
    if not path.exists():
        raise BankError(f"bank {bank}: no {INDEX_NAME} (not a sample bank?)")
    try:
        data = read_json(path)
    except JsonFileError as exc:
        raise BankError(f"bank {bank}: {exc}") from None
    return index_from_json(bank, data)


def load_slices(bank_dir: str | Path) -> tuple[BankIndex, list[np.ndarray]]:
    """Read the index and every slice: float32 mono arrays ``(frames,)`` in index order.

    Each file must be mono at the index's ``sample_rate_hz`` and as long as its
    ``duration_s`` (within half a frame); :class:`BankError` names the bank and slice.
    """
    bank = Path(bank_dir)
    index = read_index(bank)
    audio = []
    for i, s in enumerate(index.slices):
        where = f"bank {bank}: slices[{i}].file {s.file!r}"
        try:
            x, rate = sf.read(bank / s.file, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, OSError) as exc:
            raise BankError(f"{where}: not a readable audio file ({exc})") from None
        if x.shape[1] != 1:
            raise BankError(f"{where}: has {x.shape[1]} channels, expected mono")
        if rate != index.sample_rate_hz:
            raise BankError(f"{where}: is {rate} Hz, the index says {index.sample_rate_hz} Hz")
        if abs(x.shape[0] - s.duration_s * rate) > 0.5:
            raise BankError(f"{where}: has {x.shape[0]} frames, duration_s {s.duration_s} "
                            f"says {s.duration_s * rate:.1f}")
        audio.append(np.ascontiguousarray(x[:, 0]))
    return index, audio


def _absolute(path: Path) -> Path:
    # lexical, like the shell: a symlinked BANK_DIR is replaced, not the folder it points to
    return Path(os.path.abspath(path))


def check_target(bank_dir: str | Path, force: bool) -> None:
    """Refuse a BANK_DIR that cannot be (re)placed; see :func:`write_bank` for the rules."""
    bank = Path(bank_dir)
    parent = _absolute(bank).parent
    if not parent.is_dir():
        raise BankError(f"{parent}: no such directory (for bank {bank})")
    if not bank.exists() and not bank.is_symlink():
        return
    if not bank.is_dir() or bank.is_symlink():
        raise BankError(f"{bank}: exists and is not a directory")
    if not any(bank.iterdir()):
        return
    if not force:
        raise BankError(f"{bank}: directory exists and is not empty (use --force to replace "
                        f"the bank)")
    # --force deletes the old folder, so only ever a bank: a mistyped -o must not wipe a
    # project or home directory.
    if not (bank / INDEX_NAME).is_file():
        raise BankError(f"{bank}: exists and is not a sample bank (no {INDEX_NAME}); --force "
                        f"only replaces a bank, so remove it yourself or choose another name")


def write_bank(bank_dir: str | Path, index: BankIndex, audio: Sequence[np.ndarray],
               force: bool = False) -> None:
    """Write a complete bank (slice WAVs, index.json, strudel.json) to ``bank_dir``.

    Everything is written into a temporary folder beside ``bank_dir`` and renamed into place
    once complete, so a failure leaves nothing behind. ``bank_dir`` may be missing or empty;
    an existing bank (a folder with ``index.json``) is replaced only with ``force``, and is
    moved aside and deleted only after the new bank is complete.
    """
    bank = Path(bank_dir)
    if len(audio) != len(index.slices):
        raise ValueError("one audio array per slice")
    for i, s in enumerate(index.slices):
        rel = PurePosixPath(s.file)
        if rel.parent != PurePosixPath(SLICES_DIR) or rel.suffix != ".wav":
            raise ValueError(f"slices[{i}].file {s.file!r} is not {SLICES_DIR}/NAME.wav")
    check_target(bank, force)
    target = _absolute(bank)  # "." and ".." have no usable name or parent
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        (tmp / SLICES_DIR).mkdir()
        for s, x in zip(index.slices, audio, strict=True):
            sf.write(tmp / s.file, np.asarray(x, dtype=np.float32), index.sample_rate_hz,
                     subtype="FLOAT")
        index_path = tmp / INDEX_NAME
        index_path.write_text(json.dumps(index_to_json(index), indent=2, allow_nan=False)
                              + "\n", encoding="utf-8")
        (tmp / STRUDEL_NAME).write_text(
            json.dumps(strudel_map(index, bank_name(bank)), indent=2) + "\n", encoding="utf-8")
        read_index(tmp)  # never leave a bank behind that read_index would refuse
        # mkdtemp makes the folder private (0700); the finished bank gets the usual mode
        os.chmod(tmp, 0o777 & ~_umask())
        _replace_dir(tmp, target, force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _replace_dir(new: Path, bank: Path, force: bool) -> None:
    """Put the finished folder ``new`` at ``bank`` (see :func:`write_bank`)."""
    if not os.path.lexists(bank):
        try:
            os.rename(new, bank)
            return
        except OSError as exc:
            if not os.path.lexists(bank):
                raise BankError(f"{bank}: cannot create the bank ({exc.strerror})") from None
    if bank.is_dir() and not bank.is_symlink() and not any(bank.iterdir()):
        _fill_empty(new, bank)
        return
    # it filled up since check_target() looked: check again before deleting anything
    check_target(bank, force)
    old = Path(tempfile.mkdtemp(prefix=f".{bank.name}.", suffix=".old", dir=bank.parent))
    os.rename(bank, old)  # onto the empty placeholder
    try:
        os.rename(new, bank)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.rename(old, bank)
        raise BankError(f"{bank}: cannot replace the bank ({exc.strerror})") from None
    shutil.rmtree(old, ignore_errors=True)


def _fill_empty(new: Path, bank: Path) -> None:
    """Move the bank's entries into the empty folder ``bank``, keeping the folder itself (it
    may be the shell's working directory, or carry its own permissions)."""
    moved: list[Path] = []
    try:
        # index.json last: until it is there the folder is not a bank to read_index
        for name in (SLICES_DIR, STRUDEL_NAME, INDEX_NAME):
            os.rename(new / name, bank / name)
            moved.append(bank / name)
    except OSError as exc:
        for path in moved:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        raise BankError(f"{bank}: cannot write the bank ({exc.strerror})") from None
    new.rmdir()
