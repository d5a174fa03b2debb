import pytest

from iris.insz import insz_problem, is_valid_insz, last_two_digits, make_insz, mask_insz


def test_accepts_a_number_of_someone_born_before_2000():
    assert is_valid_insz("85073003328")


def test_accepts_a_number_of_someone_born_in_2000_or_later_only_with_the_2_prefix_rule():
    number = make_insz("2012-03-04", 17)
    body = int(number[:9])
    assert int(number[9:]) == 97 - int("2" + number[:9]) % 97
    assert int(number[9:]) != 97 - body % 97
    assert is_valid_insz(number)


@pytest.mark.parametrize(
    "value, problem",
    [
        ("8507300332", "exactly 11 digits"),
        ("850730033288", "exactly 11 digits"),
        ("8507300332a", "exactly 11 digits"),
        ("85073003329", "check digits"),
        ("", "exactly 11 digits"),
    ],
)
def test_refuses_malformed_numbers_with_the_reason(value, problem):
    assert problem in (insz_problem(value) or "")


def test_masking_hides_the_serial_number():
    assert mask_insz("85073003328") == "**.**.**-***.28"
    assert "8507" not in mask_insz("85073003328")  # no birth date


def test_a_pupil_beside_their_name_shows_two_digits_of_the_insz_at_most():
    assert last_two_digits("85073003328") == "…28"
    assert last_two_digits("123") == "…"


def test_the_example_in_every_message_is_itself_a_valid_number():
    from iris.insz import EXAMPLE, insz_digits

    assert is_valid_insz(insz_digits(EXAMPLE))
    assert EXAMPLE in (insz_problem("85073003329") or "")


@pytest.mark.parametrize(
    "typed, problem",
    [
        ("85.07.30-033.28", None),
        ("850730 033 28", None),
        ("", "missing"),
        ("85.07.30-033", "length"),
        ("85.07.30-033.29", "check"),
    ],
)
def test_a_typed_number_may_carry_dots_dashes_and_spaces(typed, problem):
    from iris.insz import typed_insz_problem

    assert typed_insz_problem(typed) == problem


def test_a_form_says_what_is_wrong_and_shows_a_valid_example():
    from iris.ui.forms import insz_field

    assert insz_field("85.07.30-033.28") == "85073003328"
    with pytest.raises(ValueError, match=r"check digits .* 85\.07\.30-123\.35"):
        insz_field("85.07.30-033.29")
