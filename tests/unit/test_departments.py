"""How departments and products are told apart: one department key, brand and size."""

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


def test_a_search_row_names_brand_and_a_size_the_name_does_not_say() -> None:
    from app.domain.product import Product, SoldBy, product_detail, size_text

    def product(name: str, brand: str = "", **attributes: str) -> Product:
        return Product("p", "SKU-1", name, 100, "food", brand=brand, attributes=attributes)

    assert size_text(product("Ginger ale", volume_ml="1500")) == "1.5 L"
    assert size_text(product("Linguine", weight_g="1000")) == "1 kg"
    assert size_text(product("Cat food", weight_g="1020", pack_size="12")) == "12 × 85 g"
    assert size_text(product("Tea lights", count="4")) == "4 pcs"
    assert size_text(product("Gift card")) == ""
    assert product_detail(product("Ginger ale", "FizzUp", volume_ml="330")) == "FizzUp · 330 ml"
    assert product_detail(product("Coffee beans 1 kg", "Roastery", weight_g="1000")) == "Roastery"
    loose = Product("b", "SKU-2", "Bananas", 189, "food", sold_by=SoldBy.WEIGHT)
    assert product_detail(loose) == "per kg"
