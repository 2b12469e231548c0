"""``musicmill rave export-onnx MODEL.ts -o MODEL.onnx [--verify] [--json]``.

Writes ``MODEL.encode.onnx`` and ``MODEL.decode.onnx`` (one graph per method) with every
streaming cache as an explicit ``state_in_*`` / ``state_out_*`` pair; see
``models.rave.onnx_export``. ``register_export`` plugs into the ``rave`` subcommand group.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

from engine.errors import UsageError


def register_export(rave_subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``export-onnx`` to the ``rave`` subcommand group; sets ``func=run_export``."""
    p = rave_subparsers.add_parser(
        "export-onnx", help="convert a streaming RAVE .ts to ONNX with explicit state")
    p.add_argument("model", type=Path, help="RAVE TorchScript export (.ts), streaming: "
                   "v1, v2, v2 causal or v2_small, mono or stereo")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="MODEL.onnx: writes MODEL.encode.onnx and MODEL.decode.onnx")
    p.add_argument("--verify", action="store_true",
                   help="compare with TorchScript over several blocks; prints max_abs_diff")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run_export)
    return p


def _load_error(model: Path) -> str | None:
    """Why ``model`` cannot be read as TorchScript, or None when it can be tried."""
    if not model.is_file():
        return f"model file not found: {model}"
    try:
        with model.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        return f"cannot read {model}: {exc.strerror}"
    # TorchScript archives are zip files.
    if magic[:2] != b"PK":
        return f"not a TorchScript archive: {model}"
    return None


@contextlib.contextmanager
def model_errors(model: Path, action: str = "convert") -> Iterator[None]:
    """Check ``model`` first, then turn what loading or converting it raises into one
    UsageError naming it (``export-onnx`` and ``bench rave|drums`` read exports alike)."""
    import torch

    from models.rave.ts_convert import UnsupportedModelError

    error = _load_error(model)
    if error:
        raise UsageError(error)
    try:
        yield
    except UnsupportedModelError as exc:  # a discrete export, a missing method
        raise UsageError(f"cannot {action} {model.name}: {exc}") from None
    except (RuntimeError, torch.jit.Error) as exc:  # corrupt or non-RAVE TorchScript
        # torch follows what broke with lines (or sentences) of advice: keep the first
        text = str(exc).strip()
        first = text.splitlines()[0].split(". ")[0] if text else type(exc).__name__
        raise UsageError(f"cannot load {model.name}: {first}") from None
    except AttributeError as exc:  # TorchScript, but not a RAVE export
        raise UsageError(f"{model.name} is not a RAVE export ({exc})") from None


def run_export(args: argparse.Namespace) -> int:
    """Export, optionally verify, and report the written paths."""
    from models.rave.onnx_export import export_onnx, verify

    model: Path = args.model
    with model_errors(model):  # the model is checked on entry, before the folder
        out_dir = args.output.parent if str(args.output.parent) else Path(".")
        if not out_dir.is_dir():
            raise UsageError(f"output folder does not exist: {out_dir}")
        paths = export_onnx(model, args.output)
    result: dict[str, object] = {"encode": str(paths[0]), "decode": str(paths[1])}
    if args.verify:
        result.update(verify(model, args.output))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"encode: {result['encode']}")
    print(f"decode: {result['decode']}")
    if args.verify:
        print(f"max_abs_diff: {result['max_abs_diff']:.3g} (encode "
              f"{result['encode_max_abs_diff']:.3g}, decode {result['decode_max_abs_diff']:.3g})")
    return 0
