"""Run one explicit-state ONNX graph block by block, its states never leaving ORT's buffers.

The graphs of ``onnx_export.py`` (and the drum model's) take every streaming cache as a
``state_in_k`` input and give the next as ``state_out_k``. Feeding them through
``session.run`` converts a dozen arrays into ORT values and allocates a dozen new outputs on
every call; for a model whose whole block costs ~200 us that was a fifth of the time.
:class:`OnnxStream` instead keeps two preallocated sets of state buffers and binds them once
(ORT's IOBinding): call n reads set n % 2 and writes the other. The few non-state inputs
and the output have bound buffers too, kept while the block shapes stay the same, so a call
is a copy in, one run and a copy out.

The export stores each state's saved value as an initializer of the same name (a default,
so a caller may leave states out). ORT cannot bind an input that is also an initializer,
so the stream loads the graph, takes those defaults out as the initial states, and builds
its session from the graph without them. That needs the ``onnx`` package, whose import
alone takes 0.8 s here; the stripped graph and its states are kept in the user cache
(``$XDG_CACHE_HOME/musicmill/onnx-stream/<sha256 of the graph>/``), so later loads read
them with no ``onnx`` at all.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from dsp.io.atomic import atomic_path
from dsp.io.user_cache import prune, touch, user_cache_dir

STATE_IN = "state_in_"
STATE_OUT = "state_out_"


class OnnxStream:
    """Runs one exported graph block by block, carrying its state between calls."""

    def __init__(self, path: Path | str, threads: int = 1) -> None:
        import onnxruntime as ort

        graph, initial = stateless_graph(Path(path))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        self.initial = {name: np.ascontiguousarray(v, np.float32) for name, v in initial.items()}
        self.output_name = self.session.get_outputs()[0].name
        self._sets = [{name: v.copy() for name, v in self.initial.items()},
                      {name: np.zeros_like(v) for name, v in self.initial.items()}]
        self._bindings = [self._bind_states(self._sets[k], self._sets[1 - k]) for k in (0, 1)]
        self._phase = 0
        # Output shape per input signature ((name, shape) pairs): learnt on its first call.
        self._out_shapes: dict[tuple[tuple[str, tuple[int, ...]], ...], tuple[int, ...]] = {}
        self._bound_key: tuple[tuple[str, tuple[int, ...]], ...] | None = None
        self._in_buffers: dict[str, np.ndarray] = {}
        self._out_buffer = np.empty(0, np.float32)

    def _bind_states(self, read: dict[str, np.ndarray], write: dict[str, np.ndarray]):
        binding = self.session.io_binding()
        for name, value in read.items():
            _bind(binding.bind_input, name, value)
            _bind(binding.bind_output, name.replace(STATE_IN, STATE_OUT), write[name])
        return binding

    @property
    def states(self) -> dict[str, np.ndarray]:
        """A copy of the states the next call reads."""
        return {name: v.copy() for name, v in self._sets[self._phase].items()}

    @states.setter
    def states(self, values: dict[str, np.ndarray]) -> None:
        current = self._sets[self._phase]
        for name, value in values.items():
            np.copyto(current[name], value)

    def reset(self) -> None:
        """Back to the export's saved states."""
        self.states = self.initial

    def __call__(self, **inputs: np.ndarray) -> np.ndarray:
        """Process one block; ``inputs`` are the non-state inputs (``audio``/``eps``/``z``).

        The returned array is the caller's (a copy of the bound output buffer)."""
        key = tuple((name, np.shape(v)) for name, v in inputs.items())
        if key != self._bound_key:
            if key not in self._out_shapes:
                return self._first_call(inputs, key)
            self._bind_io(key)
        for name, value in inputs.items():
            np.copyto(self._in_buffers[name], value)
        self.session.run_with_iobinding(self._bindings[self._phase])
        self._phase = 1 - self._phase
        return self._out_buffer.copy()

    def _bind_io(self, key: tuple[tuple[str, tuple[int, ...]], ...]) -> None:
        """Buffers for inputs of these shapes and their output, bound in both bindings;
        they stay bound while the block shapes stay the same (each call copies into them:
        cheaper than binding anew, which crosses into ORT once per array)."""
        self._in_buffers = {name: np.empty(shape, np.float32) for name, shape in key}
        self._out_buffer = np.empty(self._out_shapes[key], np.float32)
        for binding in self._bindings:
            for name, buffer in self._in_buffers.items():
                _bind(binding.bind_input, name, buffer)
            _bind(binding.bind_output, self.output_name, self._out_buffer)
        self._bound_key = key

    def _first_call(self, inputs: dict[str, np.ndarray],
                    key: tuple[tuple[str, tuple[int, ...]], ...]) -> np.ndarray:
        """A plain run (ORT allocates), which tells the output's shape for these inputs."""
        read, write = self._sets[self._phase], self._sets[1 - self._phase]
        names = [self.output_name] + [n.replace(STATE_IN, STATE_OUT) for n in read]
        arrays = {name: np.asarray(v, np.float32) for name, v in inputs.items()}
        outputs = self.session.run(names, {**arrays, **read})
        for name, value in zip(read, outputs[1:], strict=True):
            np.copyto(write[name], value)
        self._out_shapes[key] = outputs[0].shape
        self._phase = 1 - self._phase
        return outputs[0]


def stateless_graph(path: Path) -> tuple[bytes, dict[str, np.ndarray]]:
    """The graph at ``path`` without its states' defaults (serialized), and those defaults.

    Read from the cache when this graph was seen before (module doc); otherwise split with
    ``onnx`` and cached. A cache that cannot be written costs only the next load's time.
    """
    data = path.read_bytes()
    folder = user_cache_dir("onnx-stream", hashlib.sha256(data).hexdigest()[:16])
    graph_file, states_file = folder / "graph.onnx", folder / "states.npz"
    try:
        with np.load(states_file) as states:
            initial = {name: states[name] for name in states.files}
        graph = graph_file.read_bytes()
        touch(folder)
        return graph, initial
    except (OSError, ValueError):
        pass
    graph, initial = _split_states(data)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(graph_file) as tmp:
            tmp.write_bytes(graph)
        with atomic_path(states_file) as tmp, tmp.open("wb") as f:
            np.savez(f, **initial)  # written last: its presence says both are whole
    except OSError:
        pass
    prune(folder.parent, keep=folder)
    return graph, initial


def _split_states(data: bytes) -> tuple[bytes, dict[str, np.ndarray]]:
    import onnx

    model = onnx.load_from_string(data)
    defaults = [t for t in model.graph.initializer if t.name.startswith(STATE_IN)]
    initial = {t.name: onnx.numpy_helper.to_array(t) for t in defaults}
    for tensor in defaults:
        model.graph.initializer.remove(tensor)
    return model.SerializeToString(), initial


def _bind(method, name: str, array: np.ndarray) -> None:
    """``bind_input``/``bind_output`` of a C-contiguous float32 array, by its address (the
    array must outlive the run)."""
    method(name, "cpu", 0, np.float32, list(array.shape), array.ctypes.data)
