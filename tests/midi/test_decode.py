"""midi.decode: 14-bit CC pairs, NRPN/RPN state, notes and wheels as control events."""

from __future__ import annotations

from midi.decode import ControlDecoder
from midi.mapping import ControlEvent as E


def cc(dec: ControlDecoder, c: int, v: int, ch: int = 0, defer: bool = False):
    return dec.feed(0xB0 | ch, c, v, defer)


def test_14_bit_msb_then_lsb():
    dec = ControlDecoder()
    assert cc(dec, 1, 0x40) == [E("cc", 0, 1, 0x40, "abs"), E("cc14", 0, 1, 0x40 << 7, "msb")]
    assert cc(dec, 33, 0x05) == [E("cc", 0, 33, 5, "abs"), E("cc14", 0, 1, (0x40 << 7) | 5, "lsb")]
    # a deferred MSB is emitted once, complete, with its LSB
    assert cc(dec, 1, 0x41, defer=True) == [E("cc", 0, 1, 0x41, "abs")]
    assert cc(dec, 33, 0x7F)[1] == E("cc14", 0, 1, (0x41 << 7) | 0x7F, "lsb")


def test_lsb_without_msb_is_only_a_7_bit_cc():
    dec = ControlDecoder()
    assert cc(dec, 40, 3, ch=5) == [E("cc", 5, 40, 3, "abs")]


def test_nrpn_data_entry_increment_and_decrement():
    dec = ControlDecoder()
    assert cc(dec, 99, 2) == [] and cc(dec, 98, 3) == []
    number = (2 << 7) | 3
    assert cc(dec, 6, 100) == [E("nrpn", 0, number, 100 << 7, "msb")]
    assert cc(dec, 38, 7) == [E("nrpn", 0, number, (100 << 7) | 7, "lsb")]
    assert cc(dec, 96, 0) == [E("nrpn", 0, number, 1, "inc")]
    assert cc(dec, 97, 4) == [E("nrpn", 0, number, 4, "dec")]
    # other channels keep their own selection
    assert cc(dec, 6, 1, ch=1) == [E("cc", 1, 6, 1, "abs"), E("cc14", 1, 6, 1 << 7, "msb")]


def test_rpn_data_entry_is_not_a_control_and_rpn_null_deselects():
    dec = ControlDecoder()
    cc(dec, 101, 0)
    cc(dec, 100, 0)
    assert cc(dec, 6, 12) == []
    cc(dec, 101, 127)
    cc(dec, 100, 127)
    assert cc(dec, 6, 12)[0] == E("cc", 0, 6, 12, "abs")


def test_bank_select_and_channel_mode_produce_nothing():
    dec = ControlDecoder()
    assert cc(dec, 0, 1) == [] and cc(dec, 32, 1) == [] and cc(dec, 123, 0) == []


def test_notes_bend_and_aftertouch():
    dec = ControlDecoder()
    assert dec.feed(0x92, 60, 100, False) == [E("note_gate", 2, 60, 100, "on"),
                                              E("note_velocity", 2, 60, 100, "on")]
    assert dec.feed(0x92, 60, 0, False)[0].part == "off"
    assert dec.feed(0x82, 60, 30, False)[0].part == "off"
    assert dec.feed(0xE0, 0x7F, 0x7F, False) == [E("pitch_bend", 0, None, 16383, "abs")]
    assert dec.feed(0xD3, 9, 0, False) == [E("aftertouch", 3, None, 9, "abs")]
    assert dec.feed(0xA0, 61, 9, False) == [E("poly_aftertouch", 0, 61, 9, "abs")]
    assert dec.feed(0xC0, 5, 0, False) == []
