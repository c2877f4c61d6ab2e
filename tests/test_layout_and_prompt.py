"""Grid layout geometry, its validation messages, and the prompt wording."""

import pytest
from draw_a_video.nodes.engine.errors import DrawAVideoError
from draw_a_video.nodes.engine.layout import GridLayout, nearest_multiples
from draw_a_video.nodes.engine.prompt import DEFAULT_TEMPLATE, word_prompt

SOURCE_PROMPT = (
    "Generate a 16-frame video arranged in a 4x4 grid, where the blocks represent continuous scenes of "
    "driving down the Las Vegas Strip."
)


def test_default_layout_is_the_methods_grid():
    layout = GridLayout()
    assert (layout.rows, layout.cols, layout.cell_width, layout.cell_height, layout.gutter) == (4, 4, 320, 192, 0)
    assert (layout.width, layout.height, layout.frames) == (1280, 768, 16)
    assert layout.flux_tokens == 80 * 48
    assert layout.frame_stride == 10


@pytest.mark.parametrize(
    "rows, cols, gutter, size",
    [(4, 6, 0, (1920, 768)), (4, 8, 0, (2560, 768)), (1, 16, 0, (5120, 192)), (4, 4, 16, (1328, 816))],
)
def test_derived_sizes(rows, cols, gutter, size):
    layout = GridLayout(rows=rows, cols=cols, gutter=gutter)
    assert (layout.width, layout.height) == size
    assert layout.flux_tokens == size[0] // 16 * size[1] // 16


def test_frame_orders():
    def order(name):
        layout = GridLayout(rows=2, cols=3, order=name)
        return [layout.cell_of_frame(i) for i in range(6)]

    assert order("row-major") == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]
    assert order("column-major") == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]
    assert order("serpentine") == [(0, 0), (0, 1), (0, 2), (1, 2), (1, 1), (1, 0)]


def test_cell_origin_includes_gutters():
    assert GridLayout(gutter=16).cell_origin(2, 3) == (2 * (192 + 16), 3 * (320 + 16))


def test_flux_validation_names_the_value_and_nearest_valid_ones():
    with pytest.raises(DrawAVideoError, match=r"cell_width is 300 px .* use 288 or 304"):
        GridLayout(cell_width=300).check_flux()
    with pytest.raises(DrawAVideoError, match=r"cell_height is 200 px .* use 192 or 208"):
        GridLayout(cell_height=200).check_flux()
    with pytest.raises(DrawAVideoError, match=r"gutter is 8 px .* use 0 or 16"):
        GridLayout(gutter=8).check_flux()
    valid = GridLayout(cell_width=336, gutter=32)
    assert valid.check_flux() is valid and valid.flux_problems() == []
    assert nearest_multiples(5) == (16, 16)
    with pytest.raises(DrawAVideoError, match=r"cell_width is 8 px .* use 16\.$"):
        GridLayout(cell_width=8).check_flux()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("rows", 0, "rows is 0 but must be a whole number of at least 1"),
        ("cols", 2.5, "cols is 2.5"),
        ("gutter", -16, "gutter is -16"),
        ("order", "diagonal", "order is 'diagonal'; choose one of row-major, column-major, serpentine"),
    ],
)
def test_bad_layout_values_are_named(field, value, message):
    with pytest.raises(DrawAVideoError, match=message.replace("(", r"\(").replace(".", r"\.")):
        GridLayout(**{field: value})


def test_frame_outside_grid():
    with pytest.raises(DrawAVideoError, match="frame 16 is outside this 4x4 grid"):
        GridLayout().cell_of_frame(16)


def test_layout_dict_round_trip():
    layout = GridLayout(rows=3, cols=5, gutter=16, order="serpentine", frame_stride=4)
    assert GridLayout.from_dict(layout.to_dict()) == layout


def test_default_prompt_is_the_source_wording_verbatim():
    assert word_prompt(GridLayout()) == SOURCE_PROMPT


def test_prompt_counts_rows_along_the_height():
    prompt = word_prompt(GridLayout(rows=1, cols=16), "a blue car driving on Mars")
    assert prompt.startswith("Generate a 16-frame video arranged in a 1x16 grid,")
    assert "24-frame video arranged in a 6x4 grid" in word_prompt(GridLayout(rows=6, cols=4))


# The source's two prompts come from one template by changing the subject alone.
SOURCE_PROMPTS = [
    (GridLayout(), "continuous scenes of driving down the Las Vegas Strip", SOURCE_PROMPT),
    (GridLayout(rows=16, cols=1), "a blue car driving on Mars",
     "Generate a 16-frame video arranged in a 16x1 grid, where the blocks represent a blue car driving on Mars."),
]


@pytest.mark.parametrize("layout,subject,expected", SOURCE_PROMPTS)
def test_both_source_prompts_come_from_the_subject_alone(layout, subject, expected):
    assert word_prompt(layout, subject) == expected
    assert word_prompt(layout, subject, DEFAULT_TEMPLATE) == expected


def test_prompt_tidies_subject():
    assert word_prompt(GridLayout(), "  a city at night.  ").endswith("represent a city at night.")


def test_prompt_template_errors():
    with pytest.raises(DrawAVideoError, match=r"\{fps\}, which is not a placeholder"):
        word_prompt(GridLayout(), "x", "A {fps} clip of {subject}")
    with pytest.raises(DrawAVideoError, match="stray brace"):
        word_prompt(GridLayout(), "x", "A {subject")
    with pytest.raises(DrawAVideoError, match="subject is empty"):
        word_prompt(GridLayout(), "  ", DEFAULT_TEMPLATE)
    assert word_prompt(GridLayout(), "x", "{{literal}} {frames}") == "{literal} 16"
