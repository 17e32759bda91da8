"""Errors that mean "the user asked for something we cannot do", as opposed to bugs."""


class UserError(Exception):
    """A mistake in the user's input: the CLI prints the message on one line and exits 2."""


class ImageLoadError(UserError):
    """A file could not be read as a photo (not an image, truncated, too large...)."""
