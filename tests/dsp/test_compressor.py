import numba
import numpy as np
import pytest

from dsp import compressor

SR = 48000.0


def _db(v):
    return 20 * np.log10(v)


def _theory_gr(level_db, threshold_db, ratio, knee_db):
    """Giannoulis et al. 2012, eq. 4, as gain reduction (dB)."""
    over = level_db - threshold_db
    if 2 * over < -knee_db:
        out = level_db
    elif 2 * abs(over) <= knee_db:
        out = level_db + (1 / ratio - 1) * (over + knee_db / 2) ** 2 / (2 * knee_db)
    else:
        out = threshold_db + over / ratio
    return level_db - out


def _dc(level_db, n, channels=1):
    return np.full((channels, n), 10 ** (level_db / 20), np.float32)


@pytest.mark.parametrize("level_db", [-40.0, -26.0, -22.0, -20.0, -18.5, -10.0, 0.0])
def test_static_curve_with_soft_knee(level_db):
    x = _dc(level_db, 4800)
    y = np.empty_like(x)
    state = compressor.prepare(SR)
    compressor.process(state, -20.0, 4.0, 6.0, 1.0, 10.0, 0.0, x, y)
    expected = _theory_gr(level_db, -20.0, 4.0, 6.0)
    assert _db(x[0, -1] / y[0, -1]) == pytest.approx(expected, abs=0.01)
    assert state[compressor.GR_DB] == pytest.approx(expected, abs=0.01)


def test_sine_ten_db_over_threshold_ratio_4():
    t = np.arange(int(0.5 * SR)) / SR
    x = (10 ** (-10 / 20) * np.sin(2 * np.pi * 1000 * t))[None].astype(np.float32)
    y = np.empty_like(x)
    compressor.process(compressor.prepare(SR), -20.0, 4.0, 0.0, 0.1, 500.0, 0.0, x, y)
    tail = slice(x.shape[1] // 2, None)
    gr = _db(np.max(np.abs(x[0, tail])) / np.max(np.abs(y[0, tail])))
    assert gr == pytest.approx(7.5, abs=0.2)


def test_attack_and_release_time_constants():
    attack_ms, release_ms = 10.0, 50.0
    x = np.concatenate([_dc(0.0, int(0.2 * SR)), _dc(-40.0, int(0.4 * SR))], axis=1)
    y = np.empty_like(x)
    compressor.process(compressor.prepare(SR), -20.0, 10.0, 0.0, attack_ms, release_ms, 0.0,
                       x, y)
    gr = _db(x[0] / y[0])
    full = _theory_gr(0.0, -20.0, 10.0, 0.0)  # 18 dB
    n_attack = np.argmax(gr >= (1 - np.exp(-1)) * full)
    assert n_attack == pytest.approx(attack_ms * 1e-3 * SR, abs=1.0)
    start = int(0.2 * SR)
    assert gr[start - 1] == pytest.approx(full, abs=1e-3)
    n_release = np.argmax(gr[start:] <= np.exp(-1) * gr[start - 1])
    assert n_release == pytest.approx(release_ms * 1e-3 * SR, abs=1.0)


def test_gain_reduction_meter():
    x = np.concatenate([_dc(-5.0, 4800), _dc(-15.0, 4800)], axis=1)
    y = np.empty_like(x)
    state = compressor.prepare(SR)
    compressor.process(state, -20.0, 4.0, 0.0, 1.0, 5.0, 0.0, x, y)
    gr = _db(x[0] / y[0])
    assert state[compressor.GR_DB] == pytest.approx(gr[-1], abs=1e-4)
    assert state[compressor.GR_DB] == pytest.approx(3.75, abs=0.01)
    assert state[compressor.GR_MAX_DB] == pytest.approx(gr.max(), abs=1e-4)
    assert state[compressor.GR_MAX_DB] == pytest.approx(11.25, abs=0.01)
    compressor.reset_meter(state)
    assert state[compressor.GR_MAX_DB] == state[compressor.GR_DB]
    compressor.reset(state)
    assert state[compressor.GR_DB] == 0.0 and state[compressor.GR_MAX_DB] == 0.0


def test_sidechain_drives_the_gain():
    n = 4800
    t = np.arange(n) / SR
    x = (0.01 * np.sin(2 * np.pi * 440 * t))[None].astype(np.float32)  # -40 dB: never compressed
    y = np.empty_like(x)
    loud = _dc(0.0, n, channels=2)
    state = compressor.prepare(SR)
    compressor.process_sidechain(state, -20.0, 4.0, 0.0, 1.0, 20.0, 0.0, x, loud, y)
    np.testing.assert_allclose(y[0, -480:], x[0, -480:] * 10 ** (-15 / 20), rtol=1e-4)
    compressor.reset(state)
    compressor.process_sidechain(state, -20.0, 4.0, 0.0, 1.0, 20.0, 0.0, x, 0 * loud, y)
    np.testing.assert_array_equal(y, x)


def test_stereo_link_modes():
    x = np.zeros((2, 4800), np.float32)
    x[0] = 1.0  # 0 dB on the left, silence on the right
    for link, level_db in ((compressor.LINK_MAX, 0.0), (compressor.LINK_MEAN, _db(0.5))):
        state = compressor.prepare(SR, link=link)
        y = np.empty_like(x)
        compressor.process(state, -20.0, 4.0, 0.0, 1.0, 20.0, 0.0, x, y)
        assert state[compressor.GR_DB] == pytest.approx(_theory_gr(level_db, -20, 4, 0), abs=1e-3)


def test_makeup_gain_glides_to_target():
    x = _dc(-40.0, 4800)
    y = np.empty_like(x)
    state = compressor.prepare(SR, makeup_db=0.0, smoothing_ms=5.0)
    compressor.process(state, -20.0, 4.0, 0.0, 1.0, 20.0, 6.0, x, y)
    ratio = y[0] / x[0]
    assert 1.0 < ratio[0] < ratio[100] < ratio[200] < 10 ** (6 / 20) - 1e-3
    np.testing.assert_allclose(ratio[240:], 10 ** (6 / 20), rtol=1e-6)


@pytest.mark.parametrize("block", [1, 7, 64, 128, 4096])
def test_block_size_invariance(block):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((2, 5000)) * np.linspace(0.01, 1, 5000)).astype(np.float32)
    args = (-24.0, 3.0, 6.0, 2.0, 40.0, 3.0)
    whole = np.empty_like(x)
    compressor.process(compressor.prepare(SR), *args, x, whole)
    state = compressor.prepare(SR)
    y = np.empty_like(x)
    for i in range(0, x.shape[1], block):
        xb = np.ascontiguousarray(x[:, i:i + block])
        yb = np.empty_like(xb)
        compressor.process(state, *args, xb, yb)
        y[:, i:i + block] = yb
    np.testing.assert_allclose(y, whole, rtol=0, atol=1e-6)


def test_process_does_not_allocate():
    x = _dc(-10.0, 64, channels=2)
    fresh = numba.njit(compressor.process.py_func)
    fresh(compressor.prepare(SR), -20.0, 4.0, 6.0, 1.0, 20.0, 0.0, x, x)
    ir = fresh.inspect_llvm(fresh.signatures[0])
    assert "llvm.log.f64" in ir  # the callees' bodies are part of the inspected module
    assert "NRT_MemInfo_alloc" not in ir


def _reference(params, x, sidechain, link=compressor.LINK_MAX, makeup0_db=0.0, ramp=240):
    """Giannoulis et al. per sample in plain Python, float64, as the module documents it:
    linked level -> dB -> soft-knee curve (eq. 4) -> branching one-pole on the reduction;
    makeup moves linearly to a new value over ``ramp`` samples. ``params`` holds one
    parameter tuple per frame."""
    n = x.shape[1]
    y = np.empty(x.shape)
    gr = gr_max = 0.0
    makeup_db, makeup, step, left = makeup0_db, 10 ** (makeup0_db / 20), 0.0, 0
    for i in range(n):
        threshold, ratio, knee, attack_ms, release_ms, new_makeup_db = params[i]
        ratio, knee = max(ratio, 1.0), max(knee, 0.0)
        if new_makeup_db != makeup_db:
            makeup_db = new_makeup_db
            step, left = (10 ** (makeup_db / 20) - makeup) / ramp, ramp
        a = np.abs(sidechain[:, i].astype(np.float64))
        level = (a.mean() if link == compressor.LINK_MEAN else max(a.max(), 0.0)) if a.size else 0.0
        level_db = 20 * np.log10(level) if level > 1e-10 else -200.0
        over = level_db - threshold
        if 2 * over < -knee:
            target = 0.0
        elif knee > 0 and 2 * abs(over) <= knee:
            target = (1 - 1 / ratio) * (over + knee / 2) ** 2 / (2 * knee)
        else:
            target = over - over / ratio
        alpha = np.exp(-1 / ((attack_ms if target > gr else release_ms) * 1e-3 * SR))
        gr = alpha * gr + (1 - alpha) * target
        gr_max = max(gr_max, gr)
        if left:
            left -= 1
            makeup = 10 ** (makeup_db / 20) if left == 0 else makeup + step
        y[:, i] = x[:, i] * makeup * 10 ** (-gr / 20)
    return y, gr, gr_max


@numba.njit
def _process_views(blob, a, b, planar, k, sc, params, block):
    """Like the engine: state slice of a bigger blob, in place on a layout-'A' view."""
    n = planar.shape[2]
    for j in range(0, n, block):
        m = min(block, n - j)
        x = planar[k, :, j:j + m]
        p = params[j]
        if sc.shape[0] == 0 or sc.shape[1] == 0:
            compressor.process(blob[a:b], p[0], p[1], p[2], p[3], p[4], p[5], x, x)
        else:
            compressor.process_sidechain(blob[a:b], p[0], p[1], p[2], p[3], p[4], p[5], x,
                                         sc[:, j:j + m], x)


@pytest.mark.parametrize("case", ["stereo", "stereo_soft_knee", "mean_link", "mono",
                                  "sidechain_3ch", "makeup_from_-2db"])
@pytest.mark.parametrize("block", [1, 7, 128, 1000])
def test_fast_paths_match_per_sample_reference(case, block):
    """The optimised loop (stereo fast path, no dB conversion below the knee, exp instead
    of pow, exp skipped while there is no reduction) equals the plain per-sample algorithm,
    called from jitted code on a state slice and a non-contiguous view, in place, on a
    signal that starts silent and crosses the threshold back and forth, with threshold,
    ratio and makeup (a glide) changing between blocks."""
    n = 3000
    rng = np.random.default_rng(11)
    n_ch = 1 if case == "mono" else 2
    env = np.concatenate([np.zeros(300), np.linspace(0.001, 1.5, 1200), np.full(500, 0.05),
                          np.linspace(1.0, 0.02, 1000)])
    x = (env * rng.standard_normal((n_ch, n))).astype(np.float32)
    x[:, 200:260] = 0.0
    link = compressor.LINK_MEAN if case == "mean_link" else compressor.LINK_MAX
    knee = 8.0 if case == "stereo_soft_knee" else 0.0
    n_sc = 3 if case == "sidechain_3ch" else 0
    sc = (0.5 * rng.standard_normal((3, n))).astype(np.float32)[:n_sc]
    makeup0 = -2.0 if case == "makeup_from_-2db" else 0.0
    params = np.empty((n, 6))
    n_blocks = -(-n // block)
    for p in range(n_blocks):
        s = p * block
        params[s:s + block] = (-18.0 if s < 1800 else -24.0, 4.0 if s < 2200 else 2.5, knee,
                               2.0, 40.0, makeup0 if s < 1000 else 3.0)
    state = compressor.prepare(SR, link=link, makeup_db=makeup0)
    pad = 5
    blob = np.concatenate([np.full(pad, 7.0), state, np.full(3, 7.0)])
    planar = np.zeros((3, n_ch, n), np.float32)
    planar[2] = x
    _process_views(blob, pad, pad + state.size, planar, 2, sc, params, block)
    y = planar[2]
    assert np.all(planar[:2] == 0.0)
    assert np.all(blob[:pad] == 7.0) and np.all(blob[pad + state.size:] == 7.0)

    ref, gr, gr_max = _reference(params, x, sc if n_sc else x, link, makeup0)
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-6)
    st = blob[pad:pad + state.size]
    assert st[compressor.GR_DB] == pytest.approx(gr, abs=1e-9)
    assert st[compressor.GR_MAX_DB] == pytest.approx(gr_max, abs=1e-9)
    assert gr_max > 5.0  # the signal was compressed hard
