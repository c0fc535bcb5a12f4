"""Errors that stop the platform's start-up for another reason than a wrong setting (`SettingsError`)."""


class StartupError(RuntimeError):
    """A part is missing, stopped or does not answer; the message says which, and what to do."""
