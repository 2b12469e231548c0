"""MIDI in and out: ports, mappings to registry parameters, learn, takeover, clock.

Modules, one concept each:

- ``ports``: backends (jack/alsa), listing, opening by name or virtual, PortWatcher.
- ``convert``: controller position <-> normalised position <-> value in the unit.
- ``mapping``: Mapping value objects and the MappingTable (JSON, presets).
- ``decode``: 14-bit CC pairs and NRPN state -> control events.
- ``takeover``: soft takeover (none, pickup, value scaling), encoder accumulation.
- ``learn``: MIDI learn.
- ``parser``: defensive byte-stream parser (running status, real-time, sysex).
- ``clock``: clock in (tempo fit), tap tempo, clock out.
- ``dispatcher``: routing learn -> mappings -> takeover -> ParameterStore; latency stats.
- ``thread``: the MIDI thread around a dispatcher and an input port.
- ``output``: microtonal notes (note + pitch bend) and clock out.
"""
