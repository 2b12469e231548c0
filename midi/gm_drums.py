"""General MIDI percussion notes (channel 10 convention) to our drum voice names."""

GM_DRUM_CHANNEL = 9  # "channel 10", counted from 0 as in the MIDI status byte

GM_DRUM_NOTES: dict[int, str] = {
    35: "kick", 36: "kick",
    37: "snare", 38: "snare", 40: "snare",
    39: "clap",
    42: "hat_closed", 44: "hat_closed",
    46: "hat_open",
    41: "tom_low", 43: "tom_low",
    45: "tom_mid", 47: "tom_mid",
    48: "tom_high", 50: "tom_high",
}
# the note each voice sends (MIDI out): the GM standard kit's main note for it
VOICE_NOTES: dict[str, int] = {"kick": 36, "snare": 38, "clap": 39, "hat_closed": 42,
                               "hat_open": 46, "tom_low": 41, "tom_mid": 45, "tom_high": 48}
