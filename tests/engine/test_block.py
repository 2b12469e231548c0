import operator

import numpy as np
import pytest
from numba import cfunc

from engine import layout
from engine.block import run_frames
from engine.callback import CALLBACK_SIGNATURE, pa_callback
from engine.engine import Engine
from engine.table import ROW_LEN, Row, make_table, table_rows
from engine.worker import PassThrough

SR = 48000


def _engine(processor=None, **params) -> Engine:
    # the DSP chains are tested on their own; here the routing must be sample-exact
    return Engine(SR, 2, 2, processor, input_strip=False, master_bus=False, params=params)


def _run(e: Engine, x: np.ndarray, block: int = 128) -> np.ndarray:
    y = np.zeros_like(x)
    for s in range(0, x.shape[0], block):
        e.process(x[s:s + block], y[s:s + block])
    return y


def _noise(n: int, seed: int = 0, level: float = 0.1) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((n, 2)) * level).astype(np.float32)


def test_dry_path_is_exact_at_unity():
    x = _noise(4800)
    assert np.array_equal(_run(_engine(), x), x)


def test_worker_path_returns_at_exactly_the_reported_latency():
    e = _engine(PassThrough(256), stem_dry_gain_db=-80)
    x = _noise(SR // 2)
    y = _run(e, x)
    lat = e.worker_latency_frames
    assert lat == 512  # 256-frame worker block + 256 frames of headroom (2 callback blocks)
    assert np.array_equal(y[:lat], np.zeros_like(y[:lat]))
    assert np.array_equal(y[lat:], x[:-lat])
    assert e.snapshot()["worker_underruns"] == 0


def test_a_late_worker_falls_back_to_dry_and_recovers_at_the_same_latency():
    e = _engine(PassThrough(256), stem_dry_gain_db=-80)
    x = _noise(SR)
    y = np.zeros_like(x)
    lat = e.worker_latency_frames
    late = range(20 * 128, 60 * 128)  # the worker sleeps through these blocks
    for s in range(0, x.shape[0], 128):
        if s in late:
            run_frames(x[s:s + 128], y[s:s + 128], 128, e.table)  # callback only
        else:
            e.process(x[s:s + 128], y[s:s + 128])
    snap = e.snapshot()
    assert snap["worker_underruns"] > 0
    miss_start = late.start + lat
    # while the worker is missing, the dry signal has crossfaded in (5 ms)
    xfade = int(layout.FALLBACK_XFADE_MS * 1e-3 * SR)
    hold = slice(miss_start + xfade + 10, late.stop)
    assert np.allclose(y[hold], x[hold], atol=1e-6)
    # afterwards the wet signal is back, still exactly `lat` frames late
    after = slice(late.stop + lat + xfade + 10, x.shape[0])
    assert np.allclose(y[after], x[after.start - lat: after.stop - lat], atol=1e-6)
    # and the transition never jumps: the largest step stays near the signal's own
    assert np.abs(np.diff(y[:, 0])).max() < 4 * np.abs(np.diff(x[:, 0])).max()


def test_non_finite_input_and_worker_output_never_reach_the_output():
    class Broken(PassThrough):
        def process(self, block):
            out = block.copy()
            out[:, ::7] = np.nan
            out[:, 3] = np.inf
            return out

    e = _engine(Broken(256))
    x = _noise(SR // 4)
    x[100:200] = np.nan
    x[300, 1] = -np.inf
    y = _run(e, x)
    assert np.isfinite(y).all()
    assert np.abs(y).max() <= 1.0
    assert e.snapshot()["nonfinite_replaced"] >= 201


def test_a_processor_that_raises_is_counted_and_silenced_not_fatal():
    class Raises(PassThrough):
        def process(self, block):
            raise RuntimeError("model exploded")

    e = _engine(Raises(256), stem_dry_gain_db=-80)
    y = _run(e, _noise(SR // 10))
    snap = e.snapshot()
    assert snap["worker"]["errors"] > 0
    assert "model exploded" in snap["worker"]["last_error"]
    assert np.abs(y).max() == 0.0


@pytest.mark.parametrize("gain_db", [20.0, 60.0])
def test_overdriven_input_stays_inside_full_scale(gain_db):
    e = _engine(input_gain_db=min(gain_db, 24.0), master_gain_db=12.0)
    x = _noise(SR // 4, level=10 ** (gain_db / 20))
    y = _run(e, x)
    assert np.abs(y).max() <= layout.SAFETY_CEILING
    assert e.snapshot()["safety_limited_blocks"] > 0


def test_mono_input_feeds_both_sides_and_mono_output_is_the_average():
    e = Engine(SR, 1, 1, None, input_strip=False, master_bus=False)
    x = _noise(1000)[:, :1]
    y = np.zeros_like(x)
    e.process(x, y)
    assert np.allclose(y, x, atol=1e-7)


def test_the_callback_never_allocates_or_touches_python():
    # compile afresh: Numba does not keep the IR of a function loaded from its cache
    fresh = cfunc(CALLBACK_SIGNATURE, nopython=True)(pa_callback._pyfunc)
    llvm = fresh.inspect_llvm()
    assert "run_frames" in llvm and "process_block" in llvm  # callees are linked in
    for symbol in ("NRT_MemInfo_alloc", "NRT_Allocate", "PyGILState_Ensure", "PyObject_"):
        assert symbol not in llvm, symbol


def test_the_pointer_table_holds_every_declared_array_with_its_shape():
    e = Engine(SR, 2, 2, PassThrough(256))
    for row in Row:
        name, dtype, ndim, source, part = table_rows()[row]
        a = operator.attrgetter(source)(e)
        a = a if part is None else a[part]
        base = row * ROW_LEN
        assert e.table[base] == a.ctypes.data, name
        assert e.table[base + 1] == a.shape[0], name
        assert e.table[base + 2] == (a.shape[1] if a.ndim > 1 else 1), name


def test_an_array_not_as_declared_is_refused():
    e = Engine(SR, 2, 2, None)
    e.meters = e.meters.astype(np.float32)
    with pytest.raises(ValueError, match="METERS"):
        make_table(e)
