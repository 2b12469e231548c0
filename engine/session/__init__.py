"""The live session: the one control API every writer uses (``controls``), the typed
console, presets on a running engine, model swaps, and ``run`` itself."""
