"""User presets on disk, beside the read-only factory presets.

User presets live as ``<name>.json`` in ``platformdirs.user_data_dir("musicmill")/presets``
(or ``$MUSICMILL_DATA_DIR/presets``, which tests and portable installs use). Every write
goes to a temporary file in the same folder that is flushed to disk and then renamed over
the target, so a crash or a full disk mid-save leaves the old file as it was.

Names compare case-insensitively, because the file systems of macOS and Windows do:
"calm" is the factory preset Calm, and "Foo" and "foo" cannot both exist.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

from dsp.errors import did_you_mean
from dsp.io.atomic import atomic_path
from presets.factory_presets import FACTORY_NAMES, factory_name, load_factory
from presets.schema import APP_VERSION, Preset, PresetError, check_name, dumps, parse

ENV_DATA_DIR = "MUSICMILL_DATA_DIR"
SUFFIX = ".json"
# Far above any real preset (a few kB, plus pattern memory), far below a mistaken import
# of a huge file that would stall the control thread.
MAX_FILE_BYTES = 64 * 1024 * 1024


def data_dir() -> Path:
    """MusicMill's data folder: ``$MUSICMILL_DATA_DIR`` if set, else the platform's."""
    override = os.environ.get(ENV_DATA_DIR)
    return Path(override) if override else Path(platformdirs.user_data_dir("musicmill"))


def user_preset_dir() -> Path:
    """Where user presets are stored (created on the first save)."""
    return data_dir() / "presets"


@dataclass(frozen=True)
class PresetInfo:
    """One row of :meth:`PresetStore.list_presets`.

    ``error`` is set (and ``description`` empty) for a user file that does not load.
    """

    name: str
    factory: bool
    description: str
    path: Path | None = None
    error: str | None = None


def write_preset_file(path: Path, preset: Preset) -> None:
    """Write ``preset`` to ``path`` atomically (temp file, fsync, rename over ``path``)."""
    text = dumps(preset)  # serialise first: a bad value must not even create a temp file
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            # on disk before the rename, or a power cut could leave the new name empty
            os.fsync(f.fileno())


def read_preset_file(path: Path, lenient: bool = False,
                     source: str | None = None) -> tuple[Preset, list[str]]:
    """Read and validate a preset file; PresetError names the file on any problem."""
    label = source or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PresetError(f"{label}: {size} bytes is too large for a preset "
                              f"(at most {MAX_FILE_BYTES})")
        data = path.read_bytes()
    except FileNotFoundError:
        raise PresetError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise PresetError(f"{label}: is a folder, not a preset file") from None
    except OSError as exc:
        raise PresetError(f"{label}: cannot read ({exc.strerror})") from None
    if not data.strip():
        raise PresetError(f"{label}: file is empty")
    return parse(data, label, lenient)


class PresetStore:
    """Factory presets plus the user presets in ``directory`` (default: user_preset_dir())."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else user_preset_dir()

    # -- names -------------------------------------------------------------------------
    def _check_name(self, name: str) -> str:
        try:
            return check_name(name)
        except ValueError as exc:
            raise PresetError(f"invalid preset name: {exc}") from None

    def _user_files(self) -> dict[str, Path]:
        """Lower-cased name -> file, for every user preset file (hidden temp files skipped)."""
        if not self.directory.is_dir():
            return {}
        out = {}
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            stem = path.name[: -len(SUFFIX)]
            if stem.startswith(".") or not path.is_file():
                continue  # a temp file of an interrupted save, or not ours
            out[stem.lower()] = path
        return out

    def _user_path(self, name: str) -> Path | None:
        return self._user_files().get(name.lower())

    def _source(self, path: Path) -> str:
        return f"user/{path.name}"

    def is_factory(self, name: str) -> bool:
        """Whether ``name`` (any case) is a factory preset."""
        return factory_name(name) is not None

    def exists(self, name: str) -> bool:
        """Whether a factory or user preset called ``name`` (any case) exists."""
        return self.is_factory(name) or self._user_path(name) is not None

    def _refuse_factory(self, name: str, action: str) -> None:
        match = factory_name(name)
        if match is not None:
            raise PresetError(f"{match} is a factory preset and read-only: cannot {action} it "
                              "(save a copy under another name)")

    # -- reading -----------------------------------------------------------------------
    def list_presets(self) -> list[PresetInfo]:
        """Factory presets (in their order), then user presets sorted by name.

        A user file with a factory name is ignored: factory names are reserved.
        """
        out = [PresetInfo(p.name, True, p.description)
               for p in (load_factory(n) for n in FACTORY_NAMES)]
        users = []
        for key, path in self._user_files().items():
            if self.is_factory(key):
                continue
            name = path.name[: -len(SUFFIX)]
            try:
                preset, _ = read_preset_file(path, lenient=True, source=self._source(path))
                users.append(PresetInfo(name, False, preset.description, path))
            except PresetError as exc:
                users.append(PresetInfo(name, False, "", path, str(exc)))
        return out + sorted(users, key=lambda info: info.name.lower())

    def load(self, name: str) -> Preset:
        """The factory or user preset ``name`` (any case), strictly validated."""
        return self.load_lenient(name, lenient=False)[0]

    def load_lenient(self, name: str, lenient: bool = True) -> tuple[Preset, list[str]]:
        """Like ``load``, but keep what is valid and return warnings for what was dropped."""
        if self.is_factory(name):
            return load_factory(name), []
        path = self._user_path(name)
        if path is None:
            names = [info.name for info in self.list_presets()]
            raise PresetError(f"unknown preset {name!r}{did_you_mean(name, names)} (see "
                              "'musicmill preset list')")
        preset, warnings = read_preset_file(path, lenient, self._source(path))
        # the file name is the preset's identity (someone may have renamed the file)
        return replace(preset, name=path.name[: -len(SUFFIX)]), warnings

    # -- writing -----------------------------------------------------------------------
    def save(self, preset: Preset, name: str | None = None, overwrite: bool = True) -> Path:
        """Save ``preset`` as user preset ``name`` (default: its own name); returns the file.

        Refuses factory names, invalid names and, unless ``overwrite``, an existing user
        preset. The stored document holds every parameter and this app's version.
        """
        name = self._check_name(preset.name if name is None else name)
        self._refuse_factory(name, "overwrite")
        existing = self._user_path(name)
        if existing is not None and not overwrite:
            raise PresetError(f"a user preset named {existing.name[:-len(SUFFIX)]!r} already "
                              "exists (use --force to replace it)")
        self.directory.mkdir(parents=True, exist_ok=True)
        # keep the existing file's spelling on a case-insensitive match, so "foo" updates
        # Foo.json rather than leaving two files that differ only in case
        path = existing if existing is not None and existing.name[:-len(SUFFIX)] == name \
            else self.directory / f"{name}{SUFFIX}"
        write_preset_file(path, replace(preset, name=name, app_version=APP_VERSION))
        if existing is not None and existing != path:
            _unlink_if_other(existing, path)
        return path

    def delete(self, name: str) -> None:
        """Delete user preset ``name``; factory presets cannot be deleted."""
        self._refuse_factory(name, "delete")
        path = self._user_path(name)
        if path is None:
            raise PresetError(f"no user preset named {name!r}")
        path.unlink()

    def rename(self, old: str, new: str) -> Path:
        """Rename user preset ``old`` to ``new`` (a change of case only is allowed)."""
        self._refuse_factory(old, "rename")
        new = self._check_name(new)
        self._refuse_factory(new, "overwrite")
        path = self._user_path(old)
        if path is None:
            raise PresetError(f"no user preset named {old!r}")
        if old.lower() != new.lower() and self._user_path(new) is not None:
            raise PresetError(f"a user preset named {new!r} already exists")
        preset, _ = read_preset_file(path, source=self._source(path))
        # the new file is complete before the old one goes: a crash leaves one of them
        target = self.directory / f"{new}{SUFFIX}"
        write_preset_file(target, replace(preset, name=new))
        _unlink_if_other(path, target)
        return target

    def export(self, name: str, path: Path | str, force: bool = False) -> Path:
        """Write preset ``name`` (factory or user) to ``path`` (a file, or a folder to put
        ``<name>.json`` in); refuses to replace an existing file unless ``force``."""
        preset = self.load(name)
        path = Path(path)
        if path.is_dir():
            path = path / f"{preset.name}{SUFFIX}"
        if path.exists() and not force:
            raise PresetError(f"{path}: already exists (use --force to replace it)")
        if not path.parent.is_dir():
            raise PresetError(f"{path}: folder {path.parent} does not exist")
        write_preset_file(path, preset)
        return path

    def import_file(self, path: Path | str, name: str | None = None, force: bool = False,
                    lenient: bool = False) -> tuple[Preset, list[str]]:
        """Validate the preset file at ``path`` and save it as a user preset.

        The name is ``name``, else the one in the file, else the file name. Refuses
        factory names always and existing user presets unless ``force``. Lenient mode
        imports the valid parts and returns warnings for the rest. Returns the preset as
        stored, and the warnings.
        """
        path = Path(path)
        preset, warnings = read_preset_file(path, lenient)
        target = self._check_name(name if name is not None else preset.name)
        self.save(preset, target, overwrite=force)
        return self.load(target), warnings


def _unlink_if_other(old: Path, new: Path) -> None:
    # On a case-insensitive file system "Foo.json" and "foo.json" are one file: deleting
    # the old name would delete the preset just written.
    try:
        if old.exists() and not os.path.samefile(old, new):
            old.unlink()
    except FileNotFoundError:
        pass
