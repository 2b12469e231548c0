"""The plugin host: LV2 plugins in the callback's voice and master slots, LV2 and VST3 on
the worker (docs/ARCHITECTURE.md, "Plugin host")."""
