"""Typed errors the library raises; the CLI turns each into one line on stderr and exit code 2."""


class KineticsError(Exception):
    """Base class for errors caused by the user's input or data, never by a bug."""


class CatalogError(KineticsError):
    """A catalog entry is missing, ambiguous or cannot be read."""


class SpecError(KineticsError):
    """A hardware profile, model card or other data file violates its schema."""


class InputError(KineticsError):
    """A command-line value or input file is out of range or malformed."""
