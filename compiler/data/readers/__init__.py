"""One reader per file format; each turns a file into :class:`~compiler.data.raw.RawData`."""
