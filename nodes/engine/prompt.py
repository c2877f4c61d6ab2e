"""Prompt wording for a grid: the same function words node prompts and training captions."""

from __future__ import annotations

import string

from .errors import DrawAVideoError
from .layout import GridLayout

# The source write-up's wording. Its two prompts differ only after "represent":
#   "... arranged in a 4x4 grid, where the blocks represent continuous scenes of driving down the Las Vegas Strip."
#   "... arranged in a 16x1 grid, where the blocks represent a blue car driving on Mars."
# so the template ends at "represent {subject}." and the default subject carries "continuous scenes of".
DEFAULT_TEMPLATE = "Generate a {frames}-frame video arranged in a {rows}x{cols} grid, where the blocks represent {subject}."
DEFAULT_SUBJECT = "continuous scenes of driving down the Las Vegas Strip"
PLACEHOLDERS = ("frames", "rows", "cols", "subject")


def word_prompt(layout: GridLayout, subject: str = DEFAULT_SUBJECT, template: str = DEFAULT_TEMPLATE) -> str:
    """Fill `template`'s {frames}, {rows}, {cols} and {subject} for `layout`.

    >>> word_prompt(GridLayout())
    'Generate a 16-frame video arranged in a 4x4 grid, where the blocks represent continuous scenes of driving down the Las Vegas Strip.'
    """
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    except ValueError as exc:
        raise DrawAVideoError(f"template has a stray brace ({exc}); write a literal brace as {{{{ or }}}}.") from None
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        raise DrawAVideoError(
            f"template uses {', '.join('{' + f + '}' for f in unknown)}, which is not a placeholder; "
            f"use {{frames}}, {{rows}}, {{cols}} or {{subject}}."
        )
    # The template's own punctuation ends the sentence; don't double it.
    subject = " ".join(subject.split()).rstrip(" .")
    if "subject" in fields and not subject:
        raise DrawAVideoError(f"subject is empty; say what the video shows, e.g. {DEFAULT_SUBJECT!r}.")
    return template.format(frames=layout.frames, rows=layout.rows, cols=layout.cols, subject=subject)
