"""Beatbox trigger kernel: detection timing, one hit per sound, hat gate, MLP, block sizes."""

import numpy as np
import pytest

from dsp import beatbox, drums

SR = 48000
F = beatbox.N_FEATURES
C = len(beatbox.MODEL_CLASSES)


def always(model_class: int, hidden: int = 2) -> np.ndarray:
    """Weights whose MLP answers ``model_class`` whatever it hears."""
    b2 = np.zeros(C)
    b2[model_class] = 1.0
    return beatbox.pack_weights(np.zeros(F), np.ones(F), np.zeros((F, hidden)),
                                np.zeros(hidden), np.zeros((hidden, C)), b2)


def bursts(spec, seconds=2.0, seed=0, floor=1e-4):
    """Decaying noise bursts: spec is [(onset_frame, length_s, peak)]; mono float32."""
    rng = np.random.default_rng(seed)
    x = floor * rng.standard_normal(int(seconds * SR))
    for onset, length_s, peak in spec:
        n = int(length_s * SR)
        env = np.exp(-np.arange(n) / (0.4 * n))
        x[onset:onset + n] += peak * env * rng.standard_normal(n)
    return x.astype(np.float32)


def hits(events):
    return events[events[:, beatbox.EV_KIND] == beatbox.EV_HIT]


def test_a_sharp_hit_is_detected_within_a_millisecond_and_fires_one_window_later():
    onsets = [9600, 30011, 55555]
    ev, feats = beatbox.detect(bursts([(o, 0.05, 0.3) for o in onsets]), SR,
                               always(beatbox.M_KICK))
    h = hits(ev)
    assert h.shape[0] == 3 and feats.shape == (3, F)
    detected = h[:, beatbox.EV_ONSET]
    assert np.all(detected >= onsets) and np.all(detected - onsets <= SR // 1000)
    window = round(6e-3 * SR)
    np.testing.assert_array_equal(h[:, -1] - detected, window)
    assert np.all(h[:, beatbox.EV_VOICE] == drums.KICK)


def test_a_long_hiss_is_one_hit_and_close_hits_merge():
    x = bursts([(4800, 0.4, 0.2)])
    # a 3 dB wobble inside the hiss must not retrigger
    x[4800:4800 + 19200] *= (1.0 + 0.4 * np.sin(np.arange(19200) * 2 * np.pi * 12 / SR))
    assert hits(beatbox.detect(x, SR, always(beatbox.M_SNARE))[0]).shape[0] == 1
    near = bursts([(4800, 0.01, 0.3), (4800 + int(0.03 * SR), 0.01, 0.3)])
    assert hits(beatbox.detect(near, SR, always(beatbox.M_SNARE))[0]).shape[0] == 1
    apart = bursts([(4800, 0.01, 0.3), (4800 + int(0.08 * SR), 0.01, 0.3)])
    assert hits(beatbox.detect(apart, SR, always(beatbox.M_SNARE))[0]).shape[0] == 2


def test_a_quieter_burst_after_a_short_closure_fires():
    """The "k" of "and cats": a sustained vowel, 50 ms of silence (the closure), then a
    burst 6 dB under the vowel. The slow envelope falls over SLOW_RELEASE_MS, into the
    closure, so the burst rises over it; falling as slowly as it rises (40 ms) it stays
    too high, and nothing fires on the burst."""
    t = np.arange(int(0.3 * SR)) / SR
    vowel = 0.2 * np.sin(2 * np.pi * 220 * t) * np.minimum(1.0, t / 0.02)
    x = np.concatenate([vowel, np.zeros(int(0.05 * SR))]).astype(np.float32)
    x = np.concatenate([x, bursts([(0, 0.04, 0.1)], seconds=0.3, floor=0.0)])
    burst_at = vowel.size + int(0.05 * SR)

    def onsets(**kw):
        return hits(beatbox.detect(x, SR, always(beatbox.M_SNARE), **kw)[0])[:, beatbox.EV_ONSET]

    assert beatbox.SLOW_RELEASE_MS < beatbox.SLOW_MS
    assert np.any(np.abs(onsets() - burst_at) < SR // 1000)
    assert not np.any(np.abs(onsets(slow_release_ms=beatbox.SLOW_MS) - burst_at) < SR // 100)


def test_reset_keeps_the_settings():
    st = beatbox.prepare(SR)
    settings = st[[beatbox._HAT_MIN, beatbox._R_SLOW]].copy()
    beatbox.reset(st)
    assert np.all(settings > 0) and np.array_equal(st[[beatbox._HAT_MIN, beatbox._R_SLOW]],
                                                   settings)


def test_quiet_sounds_below_the_threshold_play_nothing():
    x = bursts([(4800, 0.05, 10 ** (-55 / 20))])
    assert beatbox.detect(x, SR, always(beatbox.M_KICK))[0].shape[0] == 0
    assert beatbox.detect(x, SR, always(beatbox.M_KICK), threshold_db=-65.0)[0].shape[0] == 1


def test_velocity_follows_the_attack_level():
    x = bursts([(4800, 0.05, 0.5), (24000, 0.05, 0.05)])
    v = hits(beatbox.detect(x, SR, always(beatbox.M_KICK))[0])[:, beatbox.EV_VELOCITY]
    assert v[0] > 0.9 and 0.3 < v[1] < 0.75


@pytest.mark.parametrize("length_s,label", [(0.03, beatbox.HAT_CLOSED),
                                            (0.3, beatbox.HAT_OPEN)])
def test_a_hat_plays_open_and_is_closed_when_the_voice_stops(length_s, label):
    x = bursts([(4800, length_s, 0.3)], seconds=1.0)
    ev, _ = beatbox.detect(x, SR, always(beatbox.M_HAT))
    assert ev.shape[0] == 2
    hit, rel = ev
    assert hit[beatbox.EV_KIND] == beatbox.EV_HIT and rel[beatbox.EV_KIND] == beatbox.EV_RELEASE
    assert hit[beatbox.EV_VOICE] == rel[beatbox.EV_VOICE] == drums.HAT_OPEN
    assert hit[beatbox.EV_LABEL] == beatbox.HAT_PENDING and rel[beatbox.EV_LABEL] == label
    assert rel[beatbox.EV_ONSET] == hit[beatbox.EV_ONSET]
    # released after the sound fell 15 dB, well before it is over
    length = (rel[-1] - hit[beatbox.EV_ONSET]) / SR
    assert 0.2 * length_s < length < length_s + 0.015


def test_other_plays_nothing():
    ev, _ = beatbox.detect(bursts([(4800, 0.05, 0.3)]), SR, always(beatbox.M_OTHER))
    assert ev.shape[0] == 1 and ev[0, beatbox.EV_VOICE] == -1
    assert ev[0, beatbox.EV_LABEL] == beatbox.OTHER


def test_classify_equals_a_numpy_mlp():
    rng = np.random.default_rng(3)
    h = 9
    mean, std = rng.normal(size=F), rng.uniform(0.5, 2.0, F)
    w1, b1 = rng.normal(size=(F, h)), rng.normal(size=h)
    w2, b2 = rng.normal(size=(h, C)), rng.normal(size=C)
    weights = beatbox.pack_weights(mean, std, w1, b1, w2, b2)
    for _ in range(200):
        f = rng.normal(size=F) * 3
        ref = np.argmax(np.tanh((f - mean) / std @ w1 + b1) @ w2 + b2)
        assert beatbox.classify(weights, f) == ref
    with pytest.raises(ValueError, match="do not fit"):
        beatbox.pack_weights(mean, std, w1[:-1], b1, w2, b2)


@pytest.mark.parametrize("block", [1, 7, 64, 128, 2400])
def test_events_do_not_depend_on_the_block_size(block):
    x = bursts([(4800 + 9600 * k, 0.02 + 0.05 * (k % 3), 0.05 + 0.1 * (k % 4))
                for k in range(10)], seconds=2.0, seed=5)
    weights = always(beatbox.M_HAT)
    ref, ref_feats = beatbox.detect(x, SR, weights, block=128)
    got, got_feats = beatbox.detect(x, SR, weights, block=block)
    cols = [c for c in range(beatbox.EV_SIZE + 1) if c != beatbox.EV_OFFSET]
    np.testing.assert_array_equal(got[:, cols], ref[:, cols])
    np.testing.assert_array_equal(got_feats, ref_feats)
    assert ref.shape[0] == 20  # every hit and its release


def test_features_ignore_the_level():
    quiet = bursts([(4800, 0.05, 0.02)], floor=0.0, seed=1)
    loud = quiet * 10.0
    _, fq = beatbox.detect(quiet, SR, always(beatbox.M_KICK))
    _, fl = beatbox.detect(loud, SR, always(beatbox.M_KICK))
    # 20 dB apart; only the detection sample may move (a fraction of a dB)
    np.testing.assert_allclose(fq, fl, atol=0.5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="positive"):
        beatbox.prepare(0)
    with pytest.raises(ValueError, match="window_ms"):
        beatbox.prepare(SR, window_ms=50.0)
    with pytest.raises(ValueError, match="minimum hit interval"):
        beatbox.detect(np.zeros(SR, np.float32), SR, always(0), block=4096)


def test_no_allocation(assert_no_nrt_alloc):
    st = beatbox.prepare(SR)
    x = np.ascontiguousarray(bursts([(10, 0.002, 0.3)], seconds=0.01)[None, :128])
    events = np.zeros((beatbox.MAX_EVENTS, beatbox.EV_SIZE))
    assert_no_nrt_alloc(beatbox.process, st, always(beatbox.M_HAT), x, 128, events,
                        np.zeros(F))
    assert_no_nrt_alloc(beatbox.set_params, st, -40.0, 9.0, 15.0)


def test_resolve_hits_takes_each_hats_class_from_its_release():
    x = bursts([(4800, 0.03, 0.3), (24000, 0.3, 0.3), (45000, 0.05, 0.3)], seconds=1.3)
    # a steady hiss still going when the input ends
    x[-4800:] += (0.2 * np.random.default_rng(2).standard_normal(4800)).astype(np.float32)
    ev, _ = beatbox.detect(x, SR, always(beatbox.M_HAT))
    hits, labels, released = beatbox.resolve_hits(ev)
    assert hits.shape[0] == 4
    np.testing.assert_array_equal(labels, [beatbox.HAT_CLOSED, beatbox.HAT_OPEN,
                                           beatbox.HAT_CLOSED, beatbox.HAT_PENDING])
    assert np.all(released[:3] > hits[:3, beatbox.EV_ONSET]) and released[3] == -1
    kicks, kick_labels, kick_released = beatbox.resolve_hits(
        beatbox.detect(x, SR, always(beatbox.M_KICK))[0])
    assert np.all(kick_labels == beatbox.KICK) and np.all(kick_released == -1)
