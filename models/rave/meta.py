"""What the worker reads about a RAVE export, kept beside its ONNX graphs so the ONNX path
runs without importing torch.

Loading a ``.ts`` takes torch (1.5 s and hundreds of MB here) and measuring its delay runs
it 32 times; the ONNX worker insert needs neither, only the rates, sizes and delay that
:class:`~models.rave.loader.RaveModel` reads. :func:`write_meta` stores those as JSON in the
graphs' cache folder (keyed by the ``.ts`` content, so an edited file is never described
stale), and :class:`LazyRaveModel` stands in for the model: its facts come from the file,
and the TorchScript module is loaded only when something runs it (a reference encoded
offline, a discrete export's codes).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsp.io.atomic import atomic_path

if TYPE_CHECKING:
    import torch

    from models.rave.loader import RaveModel

META_FILE = "meta.json"
# Bumped when a field is added or its meaning changes: older files are then measured anew.
META_VERSION = 1


@dataclass(frozen=True)
class RaveMeta:
    """The facts of one export (names and meanings as on ``RaveModel``)."""

    sample_rate: int
    latent_dims: int
    full_latent_dims: int
    channels: int
    compression_ratio: int
    delay_samples: int
    discrete: bool
    has_mean_path: bool
    streaming: bool


def not_streaming_message(path: Path) -> str:
    """The warning for an export without cached convolutions."""
    return (f"{path.name}: not a streaming export; run in blocks it restarts every block "
            "from silence, so the output clicks at block edges")


def meta_of(model: RaveModel) -> RaveMeta:
    """The facts of a loaded model (measures its delay if not yet measured)."""
    return RaveMeta(**{f.name: getattr(model, f.name) for f in fields(RaveMeta)})


def read_meta(path: Path) -> RaveMeta | None:
    """The facts stored at ``path``, or None when there are none usable (missing, from
    another version, or damaged: the caller measures them again)."""
    try:
        data = json.loads(path.read_text())
        if data.pop("meta_version", None) != META_VERSION:
            return None
        return RaveMeta(**data)
    except (OSError, ValueError, TypeError):
        return None


def write_meta(path: Path, meta: RaveMeta) -> None:
    """Store ``meta`` at ``path`` (atomically: a reader never sees half a file)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({"meta_version": META_VERSION, **asdict(meta)}, indent=1))


class LazyRaveModel:
    """A RAVE export known by its facts; its TorchScript module loads on first use.

    Has the attributes the worker insert reads (those of :class:`RaveMeta` and ``path``)
    and the methods that need the module, which load it then.
    """

    def __init__(self, path: Path, meta: RaveMeta, model: RaveModel | None = None) -> None:
        self.path = path
        self.meta = meta
        for f in fields(RaveMeta):
            setattr(self, f.name, getattr(meta, f.name))
        self._model = model

    @property
    def loaded(self) -> RaveModel:
        """The full model (imports torch and loads the file the first time)."""
        if self._model is None:
            from models.rave.loader import load_rave

            self._model = load_rave(self.path)
        return self._model

    @property
    def module(self) -> Any:
        return self.loaded.module

    def reset(self) -> None:
        """Restore the module's caches, if it was ever loaded (nothing else to reset)."""
        if self._model is not None:
            self._model.reset()

    def encode_offline(self, x: torch.Tensor, seed: int | None = None) -> torch.Tensor:
        return self.loaded.encode_offline(x, seed)

    def encode_mean(self, x: torch.Tensor) -> torch.Tensor:
        return self.loaded.encode_mean(x)

    def codes_to_latent(self, codes: torch.Tensor) -> torch.Tensor:
        return self.loaded.codes_to_latent(codes)

    def latent_to_codes(self, z: torch.Tensor) -> torch.Tensor:
        return self.loaded.latent_to_codes(z)
