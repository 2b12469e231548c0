"""Offline work on files: render (the live block function over a file) and mix (stems
through the live master bus)."""
