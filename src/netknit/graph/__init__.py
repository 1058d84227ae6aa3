"""The symbolic graph: what calling a layer on a symbolic tensor records."""
