"""The one exception type the pack raises for bad input.

Its message always names the input and says how to fix it; ComfyUI shows it
as the node's error, so no stack trace from deep inside torch reaches a user.
"""


class DrawAVideoError(ValueError):
    """Bad input that the user can fix; the message says how."""
