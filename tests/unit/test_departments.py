"""One rule tells departments apart (app.domain.product.department_key)."""

from __future__ import annotations

from app.domain.product import department_key, department_name, one_spelling_each


def test_case_and_spacing_do_not_make_a_second_department() -> None:
    assert department_key("bakery") == department_key(" BAKERY ") == department_key("Bakery")
    assert department_key("Fruit  &  Veg") == "fruit & veg"
    assert department_key("Bakery") != department_key("Bakery & Cakes")
    assert department_name("  Fruit \t& Veg ") == "Fruit & Veg"


def test_the_preferred_spelling_wins_then_the_most_used() -> None:
    spellings = [("Bakery", 4), ("bakery", 1), ("Dairy", 1), ("DAIRY", 1), ("", 3)]
    assert one_spelling_each(spellings) == {"bakery": "Bakery", "dairy": "DAIRY"}
    assert one_spelling_each(spellings, ["bakery"]) == {"bakery": "bakery", "dairy": "DAIRY"}
