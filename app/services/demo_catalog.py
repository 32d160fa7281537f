"""The demo catalog, and a deterministic generator of more grocery products like it.

``demo_catalog()`` is THE demo data set: the products of app/data/demo_catalog.csv (the one
catalog file format), the same file ``shopsmart-server demo`` loads, so a till and the demo
server hold the same products with the same ids, barcodes and prices. ``DEMO_FAVOURITES`` are
its SKUs for touch buttons.

``demo_products(count, seed)`` starts with the demo catalog and, for load tests, benchmarks
and ``shopsmart demo-data --count N``, adds generated products across real supermarket
departments: packaged goods named from department-specific product nouns × sizes × brands
(e.g. "Greek yoghurt 500 g"), each with one unique EAN-13 (GS1 Germany prefixes 400–440, never
the in-store ``2x`` range), and weighted produce / meat / deli counter items sold per kg with a
unique 4-digit PLU (real IFPS produce PLUs where known). Everything generated comes from one
seeded ``random.Random``: the same ``(count, seed)`` always gives the same list, ids included
(UUIDv7 built from seeded bytes), and never a barcode or SKU of the demo catalog.

Pure Python: standard library and ``app`` only.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.data import demo_catalog_rows
from app.domain.barcode import make_ean13
from app.domain.ids import uuid7
from app.domain.product import MAX_UNIT_PRICE, Product, SoldBy

__all__ = [
    "DEMO_FAVOURITES",
    "DEPARTMENTS",
    "demo_catalog",
    "demo_products",
    "favourite_skus",
]

_EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z: ids are time-ordered from here
_MIN_PRICE = 19

# --------------------------------------------------------------------------------------------
# Data model of the generator (module-private)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Size:
    label: str  # "1 L", "500 g", "6 pcs", "12 × 85 g"
    cents: int  # typical shelf price of a mid-range brand at this size
    attrs: Mapping[str, str]  # derived: volume_ml / weight_g / count


@dataclass(frozen=True, slots=True)
class _Name:
    text: str
    proper: bool  # starts with a proper noun: never lower-case its first letter
    attrs: Mapping[str, str]  # per-name attributes, e.g. {"abv": "4.9"}


@dataclass(frozen=True, slots=True)
class _Line:
    """A family of products sold in the same sizes: names × sizes × the department's brands."""

    names: tuple[_Name, ...]
    sizes: tuple[_Size, ...]
    tax_class: str | None
    attrs: Mapping[str, str]

    @property
    def space(self) -> int:
        return len(self.names) * len(self.sizes)


@dataclass(frozen=True, slots=True)
class _Weighed:
    name: str
    plu: str | None  # a real IFPS PLU when known, else one is allocated
    cents_per_kg: int


@dataclass(frozen=True, slots=True)
class _Department:
    name: str
    code: str  # SKU prefix
    share: int  # per mille of the generated catalog
    tax_class: str
    brands: tuple[tuple[str, int], ...]  # (brand, price factor in %)
    lines: tuple[_Line, ...]
    qualifiers: tuple[tuple[str, int], ...]  # ("Organic", 135): name prefix, price factor %
    attrs: Mapping[str, str]
    origins: tuple[str, ...] = ()
    weighed: tuple[_Weighed, ...] = ()
    weighed_percent: int = 0  # of this department's generated products
    plu_ranges: tuple[tuple[int, int], ...] = ()  # preferred PLU ranges for allocated codes
    weighed_attrs: Mapping[str, str] | None = None
    weighed_grades: tuple[tuple[str, int], ...] = (("", 100), ("organic", 140))


_SIZE_RE = re.compile(r"^(?:(\d+) × )?(\d+(?:\.\d+)?) (ml|L|g|kg)$")
_COUNT_RE = re.compile(r"^(\d+) (\w+)$")
_UNIT_FACTOR = {
    "ml": ("volume_ml", 1),
    "L": ("volume_ml", 1000),
    "g": ("weight_g", 1),
    "kg": ("weight_g", 1000),
}


def _size_attrs(label: str) -> dict[str, str]:
    match = _SIZE_RE.match(label)
    if match:
        multiple, amount, unit = match.groups()
        key, factor = _UNIT_FACTOR[unit]
        value = round(float(amount) * factor)
        attrs = {key: str(value * int(multiple or 1))}
        if multiple:
            attrs["pack_size"] = multiple
        return attrs
    match = _COUNT_RE.match(label)
    if match:
        return {"count": match.group(1)}
    raise ValueError(f"unparseable size label {label!r}")


def _line(
    names: str, sizes: str, *, tax: str | None = None, name_attr: str = "", **attrs: str
) -> _Line:
    """``names`` "A|B|^Proper C:4.9", ``sizes`` "500 ml:89|1 L:129" (label:cents)."""
    parsed_names: list[_Name] = []
    for raw in names.split("|"):
        text, _, value = raw.partition(":")
        proper = text.startswith("^")
        text = text.removeprefix("^")
        name_attrs = {name_attr: value} if name_attr and value else {}
        parsed_names.append(_Name(text, proper, name_attrs))
    parsed_sizes: list[_Size] = []
    for raw in sizes.split("|"):
        label, _, cents = raw.rpartition(":")
        parsed_sizes.append(_Size(label, int(cents), _size_attrs(label)))
    return _Line(tuple(parsed_names), tuple(parsed_sizes), tax, dict(attrs))


def _weighed(spec: str) -> tuple[_Weighed, ...]:
    """``spec`` "Bananas:4011:199|Leeks::249" (name:PLU or empty:cents per kg)."""
    items: list[_Weighed] = []
    for raw in spec.split("|"):
        name, plu, cents = raw.split(":")
        items.append(_Weighed(name, plu or None, int(cents)))
    return tuple(items)


_FOOD_QUALIFIERS = (("", 100), ("Organic", 135), ("Premium", 140), ("Value", 80), ("Regional", 110))

# --------------------------------------------------------------------------------------------
# The departments
# --------------------------------------------------------------------------------------------

_PRODUCE = _Department(
    name="Fruit & Vegetables",
    code="FVG",
    share=90,
    tax_class="food",
    brands=(
        ("ShopSmart", 85),
        ("Green Valley", 100),
        ("Sunfield", 105),
        ("Hofgarten", 115),
        ("Bio Natura", 140),
        ("Fresh Harvest", 100),
    ),
    lines=(
        _line(
            "Baby spinach|Rocket|Mixed salad leaves|Lamb's lettuce|Romaine hearts|Watercress",
            "100 g:129|150 g:169|250 g:249",
            storage="chilled",
        ),
        _line(
            "Cherry tomatoes|Plum tomatoes|Mini cucumbers|Mini sweet peppers|Snack carrots",
            "250 g:179|500 g:299",
            storage="chilled",
        ),
        _line(
            "Blueberries|Raspberries|Strawberries|Blackberries|Redcurrants",
            "125 g:249|250 g:399|500 g:699",
            storage="chilled",
        ),
        _line("Seedless grapes, green|Seedless grapes, red|Cherries", "500 g:299|1 kg:549"),
        _line(
            "Carrots|Onions|Red onions|Shallots|Waxy potatoes|Floury potatoes|Sweet potatoes"
            "|Parsnips|Beetroot",
            "500 g:99|1 kg:169|2.5 kg:349",
            storage="cool & dark",
        ),
        _line(
            "White mushrooms|Chestnut mushrooms|Oyster mushrooms|Shiitake mushrooms",
            "250 g:179|400 g:269",
            storage="chilled",
        ),
        _line(
            "Fresh basil|Fresh parsley|Fresh chives|Fresh coriander|Fresh mint|Fresh dill",
            "1 pot:199|30 g:129",
        ),
        _line(
            "Pineapple|Ripe mango|Papaya|Coconut|Pomegranate|Honeydew melon|Iceberg lettuce",
            "1 pcs:199|2 pcs:349",
        ),
        _line(
            "Apples, mixed|Easy peelers|Lemons|Limes|Juicing oranges|Conference pears",
            "750 g:199|1 kg:249|2 kg:399",
        ),
        _line(
            "Fruit salad|Pineapple chunks|Melon mix|Apple slices|Mango chunks",
            "200 g:199|400 g:349",
            storage="chilled",
        ),
        _line(
            "Stir-fry vegetables|Soup vegetables|Broccoli florets|Courgette spirals"
            "|Cauliflower rice|Diced onions",
            "300 g:199|500 g:299",
            storage="chilled",
        ),
        _line("Ripe avocados|Garlic bulbs|Red chillies|Corn on the cob", "2 pcs:229|4 pcs:399"),
    ),
    qualifiers=_FOOD_QUALIFIERS,
    attrs={"storage": "ambient", "class": "I"},
    origins=(
        "Spain",
        "Italy",
        "Netherlands",
        "Germany",
        "Morocco",
        "Ecuador",
        "Colombia",
        "Chile",
        "New Zealand",
        "South Africa",
        "Costa Rica",
        "Peru",
    ),
    weighed=_weighed(
        "Bananas:4011:199|Apples Fuji:4131:299|Apples Gala:4135:279"
        "|Apples Granny Smith:4017:289|Apples Honeycrisp:3283:449"
        "|Apples Golden Delicious:4020:249|Apples Red Delicious:4016:269"
        "|Pears Bartlett:4409:299|Pears Anjou:4025:319|Navel oranges:4012:249"
        "|Lemons:4053:349|Limes:4048:499|Hass avocados:4046:699|Kiwifruit:4030:399"
        "|Green grapes:4022:449|Red grapes:4023:449|Mangoes:4051:499"
        "|Tomatoes on the vine:4664:399|Roma tomatoes:4087:299|Cucumbers:4062:199"
        "|Green peppers:4065:399|Red peppers:4088:499|Potatoes, russet:4072:149"
        "|Sweet potatoes:4816:299|Yellow onions:4665:149|Red onions:4082:199"
        "|Garlic:4608:899|Ginger:4612:799|Carrots:4562:129|Broccoli:4060:349"
        "|Cauliflower:4079:299|Courgettes:4067:299|Aubergines:4081:349"
        "|Green cabbage:4069:129|Iceberg lettuce:4061:299|Watermelon:4032:149"
        "|Cantaloupe melon:4050:249|Peaches::399|Nectarines::399|Plums::349"
        "|Apricots::499|Cherries::899|Leeks::249|Celeriac::199|Parsnips::299"
        "|Fennel::399|Loose mushrooms::699|Brussels sprouts::399|Green beans::599"
        "|White asparagus::1299|Green asparagus::1199|Radishes::399|Kohlrabi::249"
        "|Figs::1199|Pomegranates::499|Clementines::299|Grapefruit::249|Beetroot::199"
    ),
    weighed_percent=40,
    weighed_grades=(("", 100), ("organic", 140), ("large", 110), ("small", 90), ("class II", 75)),
    plu_ranges=((3000, 4999), (1000, 2999), (5000, 6999)),
    weighed_attrs={"storage": "ambient", "class": "I"},
)

_BAKERY = _Department(
    name="Bakery",
    code="BAK",
    share=55,
    tax_class="food",
    brands=(
        ("ShopSmart", 85),
        ("Backhaus Müller", 110),
        ("Golden Crust", 100),
        ("Kornmühle", 115),
        ("Artisan Oven", 135),
        ("Bio Natura", 140),
    ),
    lines=(
        _line(
            "Sourdough loaf|Rye bread|Mixed grain bread|Spelt bread|Wholemeal loaf"
            "|Farmhouse white loaf|Sunflower seed bread|Pumpernickel|Seeded rye loaf",
            "500 g:199|800 g:299|1 kg:349",
        ),
        _line(
            "White toast bread|Wholemeal toast bread|Brioche toast|Multigrain toast bread",
            "250 g:119|500 g:169|750 g:229",
        ),
        _line(
            "Croissants|Pain au chocolat|Butter pretzels|Cinnamon rolls|Blueberry muffins"
            "|Chocolate muffins|Doughnuts|Apple turnovers",
            "2 pcs:179|4 pcs:299|6 pcs:399",
            allergens="gluten, wheat, milk, egg",
        ),
        _line(
            "Bread rolls|Seeded rolls|Ciabatta rolls|Brioche burger buns|Hot dog buns|Bagels"
            "|^English muffins",
            "4 pcs:149|6 pcs:199|10 pcs:299",
        ),
        _line(
            "Baguette|Ciabatta|Focaccia|Naan bread|Pita bread|Tortilla wraps",
            "1 pcs:129|2 pcs:229|4 pcs:349",
        ),
        _line(
            "Apple strudel|Cheesecake|Marble cake|Lemon drizzle cake|Carrot cake"
            "|Chocolate brownies|Bundt cake",
            "300 g:299|500 g:449",
            allergens="gluten, wheat, milk, egg",
        ),
        _line("Crispbread|Rusks|Oatcakes|Grissini", "125 g:129|250 g:199"),
    ),
    qualifiers=_FOOD_QUALIFIERS,
    attrs={"storage": "ambient", "allergens": "gluten, wheat", "shelf_life_days": "4"},
)

_DAIRY = _Department(
    name="Dairy & Eggs",
    code="DAI",
    share=85,
    tax_class="food",
    brands=(
        ("ShopSmart", 85),
        ("Alpenhof", 110),
        ("Weidenland", 100),
        ("Nordfrisch", 95),
        ("Green Meadow", 120),
        ("Bio Natura", 140),
        ("Hofgut Sonnental", 125),
    ),
    lines=(
        _line(
            "Whole milk|Semi-skimmed milk|Skimmed milk|Lactose-free milk|Hay milk|Buttermilk"
            "|Chocolate milk",
            "500 ml:79|1 L:119|2 L:219",
        ),
        _line(
            "Oat drink|Almond drink|Soy drink|Rice drink|Coconut drink",
            "1 L:189",
            allergens="",
        ),
        _line(
            "^Greek yoghurt|Natural yoghurt|Strawberry yoghurt|Vanilla yoghurt|Peach yoghurt"
            "|Blueberry yoghurt|Skyr|Kefir",
            "150 g:59|500 g:149|1 kg:269",
        ),
        _line("Butter|Salted butter|Spreadable butter|^Irish butter|Ghee", "250 g:229|500 g:429"),
        _line(
            "Double cream|Single cream|Whipping cream|Sour cream|Crème fraîche|Cottage cheese"
            "|Quark|Cream cheese|Mascarpone|Ricotta",
            "200 g:99|400 g:179",
        ),
        _line(
            "Free-range eggs|Barn eggs|Large free-range eggs|Duck eggs|Quail eggs",
            "6 pcs:189|10 pcs:299|12 pcs:349",
            allergens="egg",
        ),
        _line(
            "Rice pudding|Chocolate pudding|Vanilla custard|Panna cotta|Chocolate mousse",
            "125 g:59|4 × 125 g:199",
        ),
        _line(
            "Mozzarella|Grated cheese mix|^Cheddar slices|^Gouda slices|Feta|Halloumi"
            "|Grated Parmesan",
            "125 g:119|200 g:199|400 g:349",
        ),
    ),
    qualifiers=_FOOD_QUALIFIERS,
    attrs={"storage": "chilled 2–7 °C", "allergens": "milk"},
)

_MEAT = _Department(
    name="Meat & Fish",
    code="MEA",
    share=60,
    tax_class="food",
    brands=(
        ("ShopSmart", 85),
        ("Landmetzger", 115),
        ("Farmhouse Meats", 110),
        ("Nordsee Fang", 120),
        ("Green Pastures", 135),
        ("Ocean Catch", 105),
    ),
    lines=(
        _line(
            "Chicken breast fillets|Chicken thighs|Chicken drumsticks|Chicken wings"
            "|Turkey breast steaks|Turkey mince|Diced chicken",
            "400 g:449|600 g:599|1 kg:899",
            species="poultry",
        ),
        _line(
            "Beef mince|Beef steak mince|Pork mince|Mixed mince|Lamb mince",
            "400 g:399|500 g:499|1 kg:899",
        ),
        _line(
            "Beef rump steaks|Sirloin steaks|Ribeye steaks|Pork chops|Pork loin steaks"
            "|Lamb chops|Pork belly slices|Beef stewing steak",
            "250 g:599|400 g:899",
        ),
        _line(
            "Pork sausages|Bratwurst|Chipolatas|Beef burgers|Chicken sausages|Merguez",
            "6 pcs:349|12 pcs:599",
        ),
        _line(
            "Smoked salmon|Salmon fillets|Cod fillets|Haddock fillets|Tuna steaks|King prawns"
            "|Mackerel fillets|Trout fillets|Sea bass fillets",
            "200 g:499|300 g:699|500 g:1099",
            allergens="fish",
        ),
        _line(
            "Streaky bacon|Back bacon|Smoked bacon lardons|Pancetta cubes", "150 g:199|300 g:349"
        ),
    ),
    qualifiers=(("", 100), ("Organic", 150), ("Free-range", 130), ("Value", 80), ("Premium", 140)),
    attrs={"storage": "chilled 0–4 °C", "use_within_days": "2"},
    origins=("Germany", "Ireland", "France", "Denmark", "Poland", "Argentina", "Norway", "UK"),
    weighed=_weighed(
        "Beef fillet::4999|Ribeye steak::3299|Rump steak::2499|Pork shoulder::899"
        "|Pork loin::1099|Pork belly::999|Fresh beef mince::1199|Leg of lamb::1899"
        "|Lamb shoulder::1499|Chicken breast::1299|Whole chicken::699|Turkey breast::1399"
        "|Veal escalope::3499|Salmon fillet::2499|Cod loin::2999|Whole sea bream::1699"
        "|Cooked prawns::2999|Mussels::799|Counter bratwurst::1199|Meatballs::1099"
        "|Pork tenderloin::1399|Pork knuckle::699|Spare ribs::999|Beef brisket::1599"
        "|Beef short ribs::1799|Oxtail::1299|Chicken thighs::899|Chicken wings::699"
        "|Duck breast::2299|Whole duck::1099|Lamb chops::2499|Rack of lamb::3299"
        "|Veal shank::2199|Tuna steak::3499|Halibut fillet::3999|Haddock fillet::2299"
        "|Whole trout::1399|Squid rings::1899|Scallops::5999|Smoked mackerel::1599"
    ),
    weighed_percent=25,
    weighed_grades=(
        ("", 100),
        ("organic", 150),
        ("premium", 140),
        ("regional", 110),
        ("value", 80),
    ),
    plu_ranges=((7000, 8499), (5000, 6999), (1000, 2999)),
    weighed_attrs={"storage": "chilled 0–4 °C", "counter": "butcher"},
)

_DELI = _Department(
    name="Deli & Cheese",
    code="DEL",
    share=50,
    tax_class="food",
    brands=(
        ("ShopSmart", 85),
        ("Käserei Alpblick", 125),
        ("Salumeria Roma", 130),
        ("Delikat", 110),
        ("Bio Natura", 140),
        ("Old Mill Dairy", 115),
    ),
    lines=(
        _line(
            "Young Gouda|Aged Gouda|^Emmental|^Edam|Mature Cheddar|^Brie|^Camembert"
            "|^Manchego|^Gruyère|^Blue Stilton|^Tilsiter|^Butterkäse",
            "150 g:199|250 g:299|400 g:449",
            allergens="milk",
        ),
        _line(
            "Salami|Chorizo|^Parma ham|^Serrano ham|Cooked ham|Smoked turkey slices|Pastrami"
            "|Mortadella|Bresaola|Roast beef slices",
            "80 g:199|150 g:299|200 g:379",
        ),
        _line(
            "Hummus|Tzatziki|Guacamole|Olive tapenade|Basil pesto|Red pepper dip",
            "150 g:149|250 g:219",
        ),
        _line(
            "Green olives|^Kalamata olives|Stuffed peppers|Sun-dried tomatoes"
            "|Marinated artichokes|Antipasti mix",
            "150 g:229|300 g:379",
        ),
        _line(
            "Coleslaw|Potato salad|Pasta salad|Couscous salad|Egg salad",
            "250 g:149|500 g:249",
            allergens="egg, mustard",
        ),
        _line(
            "Quiche Lorraine|Spinach quiche|Sausage rolls|Scotch eggs|Pork pie",
            "2 pcs:299|4 pcs:499",
            allergens="gluten, wheat, egg, milk",
        ),
    ),
    qualifiers=_FOOD_QUALIFIERS,
    attrs={"storage": "chilled 2–7 °C"},
    origins=("Netherlands", "France", "Italy", "Spain", "Switzerland", "Germany", "Greece"),
    weighed=_weighed(
        "Parmigiano Reggiano::2499|Aged Gouda::1699|Emmental::1499|Brie de Meaux::1999"
        "|Manchego::2299|Comté::2699|Blue Stilton::2199|Barrel-aged feta::1499"
        "|Mixed olives::1299|Prosciutto di Parma::3999|Serrano ham::2999|Salami Milano::2499"
        "|Cooked ham::1599|Roast beef::3499|Smoked turkey::1999|Pastrami::2999|Chorizo::1999"
        "|Deli potato salad::799|Deli coleslaw::699|Grilled antipasti::2499"
        "|Gruyère::2799|Appenzeller::2599|Gorgonzola::1899|Roquefort::2999|Taleggio::2299"
        "|Pecorino Romano::2699|Mozzarella di bufala::1999|Smoked cheese::1599"
        "|Goat's cheese::2499|Mortadella::1499|Bresaola::4999|Coppa::3499"
        "|Black Forest ham::2499|Turkey ham::1599|Liver pâté::1299|Stuffed vine leaves::1599"
        "|Marinated feta::1799|Sun-dried tomatoes::1999|Fresh pesto::2499|Tapenade::1999"
    ),
    weighed_percent=30,
    weighed_grades=(
        ("", 100),
        ("organic", 140),
        ("premium", 135),
        ("traditional", 115),
        ("farmhouse", 120),
    ),
    plu_ranges=((8500, 9999), (5000, 6999), (1000, 2999)),
    weighed_attrs={"storage": "chilled 2–7 °C", "counter": "deli"},
)

_FROZEN = _Department(
    name="Frozen",
    code="FRO",
    share=70,
    tax_class="food",
    brands=(
        ("ShopSmart", 85),
        ("Polar Kitchen", 100),
        ("Frosta Fields", 105),
        ("Nordic Frost", 105),
        ("Bella Napoli", 115),
        ("Dolce Gelato", 130),
    ),
    lines=(
        _line(
            "Garden peas|Sweetcorn|Green beans|Chopped spinach|Broccoli florets"
            "|Mixed vegetables|Stir-fry vegetables|Edamame beans|Brussels sprouts",
            "450 g:129|1 kg:239",
        ),
        _line(
            "Pizza Margherita|Pizza salami|Pizza funghi|Pizza quattro formaggi|Pizza tonno"
            "|Pizza vegetale|Pizza Hawaii",
            "1 pcs:299|2 pcs:499",
            allergens="gluten, wheat, milk",
        ),
        _line(
            "^French fries|Potato wedges|Hash browns|Sweet potato fries|Potato croquettes",
            "750 g:199|1.5 kg:349",
        ),
        _line(
            "Fish fingers|Breaded cod fillets|Salmon portions|Raw prawns|Battered haddock",
            "300 g:299|600 g:499",
            allergens="fish",
        ),
        _line(
            "Vanilla ice cream|Chocolate ice cream|Strawberry ice cream|Salted caramel ice cream"
            "|Mint choc chip ice cream|Lemon sorbet|Mango sorbet",
            "500 ml:299|900 ml:449",
            allergens="milk",
        ),
        _line("Ice lollies|Choc ices|Ice cream cones|Frozen yoghurt bars", "4 pcs:249|8 pcs:399"),
        _line(
            "Lasagne|Chicken tikka masala|Beef chilli con carne|Macaroni cheese"
            "|Spaghetti bolognese|Vegetable curry|Cottage pie",
            "400 g:299|800 g:499",
        ),
        _line("Frozen raspberries|Mixed berries|Frozen mango|Smoothie mix", "300 g:249|750 g:499"),
        _line(
            "Chicken nuggets|Chicken goujons|Vegetable burgers|Falafel|Spring rolls|Gyoza",
            "300 g:249|600 g:429",
        ),
    ),
    qualifiers=_FOOD_QUALIFIERS,
    attrs={"storage": "frozen −18 °C"},
)

_PANTRY = _Department(
    name="Pantry",
    code="PAN",
    share=150,
    tax_class="food",
    brands=(
        ("ShopSmart", 80),
        ("Casa Italia", 110),
        ("Golden Harvest", 100),
        ("Spice Route", 115),
        ("Mühlenhof", 100),
        ("Bio Natura", 140),
        ("Oriental Garden", 110),
        ("Heritage Kitchen", 120),
    ),
    lines=(
        _line(
            "Spaghetti|Penne|Fusilli|Farfalle|Tagliatelle|Linguine|Rigatoni|Macaroni|Orzo"
            "|Wholewheat spaghetti|Egg noodles|Lasagne sheets",
            "250 g:99|500 g:129|1 kg:229",
            allergens="gluten, wheat",
        ),
        _line(
            "^Basmati rice|Jasmine rice|Long grain rice|Risotto rice|Brown rice|Wild rice mix"
            "|Couscous|Bulgur wheat|Quinoa|Red lentils|Green lentils|Pearl barley|Rice noodles",
            "500 g:149|1 kg:249|2 kg:449",
        ),
        _line(
            "Chopped tomatoes|Passata|Tomato purée|Chickpeas|Kidney beans|Black beans"
            "|Baked beans|Butter beans|Canned sweetcorn|Coconut milk|Tuna in brine"
            "|Tuna in olive oil|Sardines in tomato sauce",
            "200 g:59|400 g:89|800 g:159",
        ),
        _line(
            "Extra virgin olive oil|Sunflower oil|Rapeseed oil|Sesame oil|Coconut oil"
            "|Balsamic vinegar|White wine vinegar|Apple cider vinegar",
            "250 ml:249|500 ml:399|1 L:649",
        ),
        _line(
            "Plain flour|Self-raising flour|Strong bread flour|Wholemeal flour|Spelt flour"
            "|Caster sugar|Granulated sugar|Brown sugar|Icing sugar|Cocoa powder",
            "500 g:89|1 kg:149|2 kg:259",
        ),
        _line(
            "Tomato ketchup|Mayonnaise|^Dijon mustard|Wholegrain mustard|^BBQ sauce"
            "|Sweet chilli sauce|Soy sauce|Sriracha|^Worcestershire sauce|Salad cream",
            "250 ml:149|500 ml:249",
        ),
        _line(
            "Red pesto|Tomato & basil sauce|Arrabbiata sauce|Bolognese sauce|Carbonara sauce"
            "|Tikka masala paste|Korma sauce|Thai green curry paste|Sweet & sour sauce",
            "190 g:199|350 g:249|500 g:299",
        ),
        _line(
            "Sea salt|Ground black pepper|Paprika|Ground cumin|Ground cinnamon|Dried oregano"
            "|Curry powder|Chilli flakes|Garlic granules|Mixed herbs|Ground nutmeg|Turmeric",
            "40 g:149|100 g:249",
        ),
        _line(
            "Vegetable stock cubes|Chicken stock cubes|Beef stock cubes|Gravy granules"
            "|Tomato soup|Mushroom soup|Chicken noodle soup|Lentil soup",
            "100 g:99|400 g:179",
        ),
        _line(
            "Walnuts|Whole almonds|Cashews|Hazelnuts|Pine nuts|Raisins|Sultanas"
            "|Dried apricots|Dates|Prunes|Chia seeds|Linseed",
            "100 g:149|200 g:249|500 g:549",
            allergens="nuts",
        ),
        _line(
            "Baking powder|Dried yeast|Vanilla sugar|Bicarbonate of soda|Gelatine leaves",
            "3 pcs:99|10 pcs:249",
        ),
    ),
    qualifiers=_FOOD_QUALIFIERS,
    attrs={"storage": "ambient"},
)

_BREAKFAST = _Department(
    name="Breakfast & Cereal",
    code="BRE",
    share=45,
    tax_class="food",
    brands=(
        ("ShopSmart", 80),
        ("Morning Glory", 105),
        ("Golden Oats", 100),
        ("Kaffeehaus", 120),
        ("Tea Garden", 110),
        ("Bio Natura", 140),
        ("Alpine Muesli Co.", 115),
    ),
    lines=(
        _line(
            "Porridge oats|Jumbo oats|Cornflakes|Bran flakes|Crunchy granola|Fruit muesli"
            "|^Swiss-style muesli|Chocolate rice pops|Honey nut clusters|Wheat biscuits"
            "|Puffed rice|Chocolate granola",
            "375 g:199|500 g:249|750 g:349|1 kg:429",
            allergens="gluten, oats",
        ),
        _line(
            "Ground coffee|Coffee beans|Espresso beans|Decaf ground coffee|Filter coffee"
            "|Instant coffee",
            "250 g:449|500 g:799|1 kg:1399",
            allergens="",
        ),
        _line(
            "^English breakfast tea|^Earl Grey tea|Green tea|Peppermint tea|Chamomile tea"
            "|Rooibos tea|Fruit tea|Chai tea|Decaf tea",
            "20 bags:179|40 bags:299|80 bags:499",
            allergens="",
        ),
        _line(
            "Strawberry jam|Raspberry jam|Apricot jam|Cherry jam|Orange marmalade|Clear honey"
            "|Set honey|Chocolate hazelnut spread|Smooth peanut butter|Crunchy peanut butter"
            "|Lemon curd|Maple syrup",
            "250 g:199|450 g:299",
            allergens="",
        ),
        _line(
            "Hot chocolate|Malted drink|Drinking chocolate",
            "250 g:249|500 g:399",
            allergens="milk",
        ),
        _line(
            "Cereal bars|Breakfast biscuits|Oat bars|Protein bars",
            "6 pcs:199|12 pcs:349",
            allergens="gluten, nuts",
        ),
    ),
    qualifiers=_FOOD_QUALIFIERS,
    attrs={"storage": "ambient"},
)

_SNACKS = _Department(
    name="Snacks & Sweets",
    code="SNA",
    share=85,
    tax_class="food",
    brands=(
        ("ShopSmart", 80),
        ("Crunchy Co.", 100),
        ("Schokoladenhaus", 120),
        ("Golden Crisp", 100),
        ("Sweet Tooth", 95),
        ("Nutty Farm", 115),
        ("Bio Natura", 140),
        ("Royal Biscuits", 110),
    ),
    lines=(
        _line(
            "Ready salted crisps|Salt & vinegar crisps|Cheese & onion crisps|Paprika crisps"
            "|Sour cream crisps|Sea salt kettle chips|Tortilla chips|Pretzel sticks"
            "|Salted popcorn|Sweet popcorn|Cheese puffs|Prawn crackers",
            "40 g:69|150 g:179|200 g:229",
            allergens="",
        ),
        _line(
            "Milk chocolate|Dark chocolate 70 %|White chocolate|Hazelnut chocolate"
            "|Almond chocolate|Orange dark chocolate|Sea salt caramel chocolate",
            "100 g:129|200 g:229|300 g:329",
            allergens="milk, soy, nuts",
        ),
        _line(
            "Gummy bears|Fruit gums|Liquorice allsorts|Wine gums|Sour worms|Marshmallows"
            "|Mint humbugs|Toffees|Jelly beans",
            "100 g:99|200 g:179|500 g:399",
            allergens="gelatine",
        ),
        _line(
            "Digestive biscuits|Chocolate digestives|Butter shortbread|Chocolate chip cookies"
            "|Ginger nuts|Custard creams|Bourbon biscuits|Oat cookies|Wafer biscuits"
            "|^Jaffa cakes|Rich tea biscuits",
            "150 g:99|300 g:169|500 g:249",
            allergens="gluten, wheat, milk",
        ),
        _line(
            "Salted peanuts|Roasted cashews|Mixed nuts|Trail mix|Pistachios"
            "|Honey roasted peanuts|Wasabi peas",
            "150 g:179|200 g:229|400 g:399",
            allergens="peanuts, nuts",
        ),
        _line(
            "Chocolate bar|Caramel bar|Peanut bar|Coconut bar|Wafer bar|Nougat bar",
            "1 pcs:79|4 pcs:249|8 pcs:449",
            allergens="milk, nuts",
        ),
        _line(
            "Salted rice cakes|Chocolate rice cakes|Veggie straws|Lentil chips|Beef jerky",
            "50 g:129|100 g:229",
            allergens="",
        ),
    ),
    qualifiers=_FOOD_QUALIFIERS,
    attrs={"storage": "ambient"},
)

_DRINKS = _Department(
    name="Drinks",
    code="DRI",
    share=85,
    tax_class="standard",  # soft drinks, water and juice: full rate
    brands=(
        ("ShopSmart", 80),
        ("Quellbrunn", 100),
        ("Alpenquelle", 110),
        ("Citrus Valley", 105),
        ("FizzUp", 100),
        ("Fruity Farm", 115),
        ("Kombucha Lab", 140),
        ("Energy Max", 120),
    ),
    lines=(
        _line(
            "Still water|Sparkling water|Medium sparkling water|Lemon flavoured water"
            "|Natural mineral water",
            "500 ml:49|1 L:69|1.5 L:79",
            container="PET bottle",
            deposit_cents="25",
        ),
        _line(
            "Orange juice|Apple juice|Cloudy apple juice|Multivitamin juice|Grapefruit juice"
            "|Pineapple juice|Cranberry juice|Tomato juice|Carrot juice|Grape juice",
            "250 ml:99|1 L:199|1.5 L:269",
            container="carton",
        ),
        _line(
            "Cola|Cola zero|Lemonade|Orange soda|Lemon-lime soda|Ginger ale|Tonic water"
            "|Root beer|Peach iced tea|Lemon iced tea|Bitter lemon|Cream soda",
            "330 ml:89|500 ml:119|1.5 L:169",
            container="PET bottle",
            deposit_cents="25",
        ),
        _line(
            "Energy drink|Sugar-free energy drink|Orange sports drink|Berry sports drink",
            "250 ml:129|500 ml:199",
            container="can",
            deposit_cents="25",
        ),
        _line(
            "Elderflower cordial|Blackcurrant squash|Orange squash|Lime cordial|Raspberry syrup",
            "500 ml:199|1 L:299",
            container="glass bottle",
        ),
        _line(
            "Original kombucha|Ginger kombucha|Cold brew coffee|Iced latte"
            "|Chocolate protein shake|Strawberry & banana smoothie|Mango smoothie",
            "250 ml:199|330 ml:249|750 ml:449",
            container="glass bottle",
        ),
    ),
    qualifiers=(("", 100), ("Organic", 130), ("Premium", 135), ("Value", 75), ("Light", 100)),
    attrs={"storage": "ambient"},
)

_ALCOHOL = _Department(
    name="Alcohol",
    code="ALC",
    share=60,
    tax_class="standard",
    brands=(
        ("Brauhaus Kloster", 110),
        ("Bergbräu", 100),
        ("Vineyard Hills", 110),
        ("Château Belle-Rive", 150),
        ("Highland Cask", 160),
        ("ShopSmart", 80),
        ("Nordic Spirits", 130),
        ("Casa del Sol", 105),
    ),
    lines=(
        _line(
            "Pilsner:4.9|Lager:5.0|Wheat beer:5.4|Pale ale:5.2|^IPA:6.2|Stout:4.2"
            "|Dark lager:4.8|Radler:2.5|Alcohol-free lager:0.5",
            "330 ml:89|500 ml:119",
            name_attr="abv",
            min_age="16",
            container="glass bottle",
            deposit_cents="8",
        ),
        _line(
            "^Riesling:11.5|^Pinot Grigio:12.5|^Sauvignon Blanc:12.5|^Chardonnay:13.0"
            "|^Merlot:13.5|^Cabernet Sauvignon:13.5|^Rioja:13.5|^Chianti:13.0|^Malbec:14.0"
            "|Rosé:12.0|^Prosecco:11.0|^Cava:11.5|^Champagne:12.0",
            "187 ml:299|750 ml:699|1.5 L:1299",
            name_attr="abv",
            min_age="16",
            container="glass bottle",
        ),
        _line(
            "Vodka:37.5|^London dry gin:37.5|Pink gin:37.5|Blended Scotch whisky:40.0"
            "|Single malt whisky:40.0|White rum:37.5|Spiced rum:35.0|Tequila:38.0"
            "|Brandy:36.0|Coffee liqueur:20.0|Cream liqueur:17.0|Herbal liqueur:35.0",
            "200 ml:699|700 ml:1599|1 L:2199",
            name_attr="abv",
            min_age="18",
            container="glass bottle",
        ),
        _line(
            "Apple cider:4.5|Pear cider:4.5|Lime hard seltzer:4.0|Canned gin & tonic:5.0"
            "|Canned rum & cola:5.0",
            "330 ml:149|500 ml:199",
            name_attr="abv",
            min_age="18",
            container="can",
            deposit_cents="25",
        ),
        _line(
            "Port:20.0|Dry sherry:15.0|Sweet vermouth:15.0|Mulled wine:9.0",
            "500 ml:599|750 ml:799",
            name_attr="abv",
            min_age="16",
            container="glass bottle",
        ),
    ),
    qualifiers=(
        ("", 100),
        ("Organic", 125),
        ("Reserve", 160),
        ("Limited edition", 150),
        ("Value", 80),
    ),
    attrs={"storage": "ambient", "age_restricted": "yes"},
)

_HOUSEHOLD = _Department(
    name="Household",
    code="HOU",
    share=65,
    tax_class="standard",
    brands=(
        ("ShopSmart", 80),
        ("CleanPro", 110),
        ("Fresh Home", 100),
        ("EcoLeaf", 125),
        ("Sparkle", 105),
        ("HomeMaster", 115),
    ),
    lines=(
        _line("Toilet paper|Kitchen roll", "4 rolls:229|8 rolls:399|16 rolls:699"),
        _line("Facial tissues|Paper napkins", "1 box:149|3 boxes:399"),
        _line(
            "Washing-up liquid|All-purpose cleaner|Bathroom cleaner|Glass cleaner"
            "|Kitchen degreaser|Floor cleaner|Toilet cleaner|Limescale remover|Thick bleach",
            "500 ml:149|750 ml:219|1 L:279",
            hazard="irritant",
        ),
        _line(
            "Bio laundry detergent|Non-bio laundry detergent|Colour detergent|Wool detergent"
            "|Fabric conditioner|Laundry capsules",
            "20 washes:499|40 washes:899|60 washes:1199",
        ),
        _line(
            "Dishwasher tablets|Dishwasher cleaner tabs|Descaling tablets",
            "30 pcs:499|60 pcs:899",
        ),
        _line("Bin bags|Pedal bin liners|Freezer bags|Sandwich bags", "20 pcs:199|50 pcs:399"),
        _line("Cling film|Aluminium foil|Baking paper", "1 roll:199|2 rolls:349"),
        _line(
            "Sponges|Scouring pads|Microfibre cloths|Rubber gloves|Dusters",
            "3 pcs:149|6 pcs:249",
        ),
        _line(
            "^AA batteries|^AAA batteries|^LED bulbs|Tea lights|Matches|Firelighters",
            "4 pcs:399|8 pcs:649",
        ),
        _line(
            "Air freshener spray|Scented candle|Reed diffuser|Plug-in air freshener",
            "1 pcs:299|2 pcs:499",
        ),
    ),
    qualifiers=(
        ("", 100),
        ("Eco", 120),
        ("Sensitive", 110),
        ("Value", 75),
        ("Professional", 140),
    ),
    attrs={"storage": "ambient"},
)

_PERSONAL = _Department(
    name="Personal Care",
    code="PER",
    share=65,
    tax_class="standard",
    brands=(
        ("ShopSmart", 80),
        ("Pure Skin", 110),
        ("Nordic Care", 120),
        ("Herbal Essence Co.", 105),
        ("DentaFresh", 100),
        ("Silk & Soft", 115),
        ("EcoLeaf", 125),
    ),
    lines=(
        _line(
            "Shampoo for normal hair|Shampoo for dry hair|Anti-dandruff shampoo|Conditioner"
            "|Shower gel|Sensitive body wash|Bubble bath|Liquid hand soap",
            "250 ml:199|400 ml:299|750 ml:449",
        ),
        _line(
            "Whitening toothpaste|Sensitive toothpaste|Herbal toothpaste|Kids' toothpaste",
            "75 ml:149|125 ml:229",
        ),
        _line("Mouthwash|Micellar water|Make-up remover|Toner", "250 ml:299|500 ml:449"),
        _line(
            "Medium toothbrushes|Soft toothbrushes|Toothbrush heads|Dental floss picks",
            "2 pcs:299|4 pcs:499",
        ),
        _line("Deodorant spray|Roll-on deodorant|Antiperspirant stick", "50 ml:229|150 ml:299"),
        _line(
            "Moisturising cream|Hand cream|Body lotion|Sun cream SPF 30|Sun cream SPF 50"
            "|After-sun lotion|Face wash",
            "50 ml:299|200 ml:499|400 ml:699",
        ),
        _line(
            "Disposable razors|Razor blades|Cotton pads|Cotton buds|Plasters|Sanitary towels"
            "|Tampons|Panty liners",
            "10 pcs:149|20 pcs:249|40 pcs:449",
        ),
        _line(
            "Paracetamol tablets|Ibuprofen tablets|Cough sweets|Vitamin C tablets"
            "|Multivitamins|Magnesium tablets",
            "20 pcs:199|60 pcs:499",
        ),
    ),
    qualifiers=(
        ("", 100),
        ("Sensitive", 110),
        ("Natural", 125),
        ("Value", 75),
        ("Travel-size", 60),
    ),
    attrs={"storage": "ambient"},
)

_BABY = _Department(
    name="Baby",
    code="BAB",
    share=20,
    tax_class="food",
    brands=(
        ("ShopSmart", 80),
        ("Little Sprout", 115),
        ("BabyCare", 110),
        ("Bio Natura", 140),
        ("Mama Mia Kids", 105),
    ),
    lines=(
        _line(
            "Size 1 nappies|Size 2 nappies|Size 3 nappies|Size 4 nappies|Size 5 nappies"
            "|Size 6 nappies|Size 5 pull-ups|Size 6 pull-ups",
            "24 pcs:599|44 pcs:999|72 pcs:1499",
            tax="standard",
        ),
        _line(
            "Sensitive baby wipes|Fragrance-free baby wipes|Water baby wipes",
            "56 pcs:149|168 pcs:399",
            tax="standard",
        ),
        _line(
            "Baby shampoo|Baby lotion|Nappy cream|Baby oil|Baby bath",
            "200 ml:249|500 ml:449",
            tax="standard",
        ),
        _line(
            "Apple purée|Pear & banana purée|Carrot purée|Vegetable risotto"
            "|Chicken & vegetables|Baby bolognese|Apple porridge|Baby rice|Mango fruit pouch"
            "|Berry fruit pouch",
            "125 g:99|190 g:149|250 g:199",
            age="4+ months",
        ),
        _line(
            "First infant milk|Follow-on milk|Growing-up milk",
            "800 g:1499",
            age="0+ months",
            allergens="milk",
        ),
        _line("Rice rusks|Baby biscuits|Corn puffs", "50 g:149|100 g:229", age="8+ months"),
    ),
    qualifiers=(("", 100), ("Organic", 130), ("Value", 80), ("Premium", 135)),
    attrs={"storage": "ambient"},
)

_PET = _Department(
    name="Pet",
    code="PET",
    share=15,
    tax_class="standard",  # pet food and supplies: full rate in this store's table
    brands=(
        ("ShopSmart", 80),
        ("Happy Paws", 110),
        ("Whisker Delight", 115),
        ("Canine Choice", 120),
        ("Feathers & Fins", 100),
    ),
    lines=(
        _line(
            "Cat food with chicken|Cat food with salmon|Cat food with beef|Cat food with tuna"
            "|Kitten food with chicken|Senior cat food",
            "85 g:59|400 g:149|12 × 85 g:599",
            species="cat",
        ),
        _line(
            "Dry cat food with chicken|Dry cat food with fish|Dry dog food with lamb & rice"
            "|Dry dog food with chicken|Puppy food|Senior dog food",
            "800 g:399|2 kg:899|7.5 kg:2499",
        ),
        _line(
            "Dog food with beef|Dog food with chicken|Dog food with lamb",
            "400 g:149|800 g:249",
            species="dog",
        ),
        _line("Dog treats|Dental chews|Cat treats|Catnip treats", "100 g:199|200 g:349"),
        _line("Clumping cat litter|Silica cat litter|Small animal bedding", "5 L:399|10 L:699"),
        _line(
            "Poop bags|Rope dog toy|Cat toy mice|Bird seed balls|Fish flakes",
            "1 pcs:299|3 pcs:699",
        ),
    ),
    qualifiers=(("", 100), ("Organic", 130), ("Value", 80), ("Premium", 135)),
    attrs={"storage": "ambient"},
)

_DEPARTMENTS: tuple[_Department, ...] = (
    _PRODUCE,
    _BAKERY,
    _DAIRY,
    _MEAT,
    _DELI,
    _FROZEN,
    _PANTRY,
    _BREAKFAST,
    _SNACKS,
    _DRINKS,
    _ALCOHOL,
    _HOUSEHOLD,
    _PERSONAL,
    _BABY,
    _PET,
)
_BY_CODE = {department.code: department for department in _DEPARTMENTS}

DEPARTMENTS: tuple[str, ...] = tuple(department.name for department in _DEPARTMENTS)
"""The departments the generator fills (the demo data file has its own)."""

_PACKS = ((1, "", 100), (2, ", 2-pack", 190), (4, ", 4-pack", 370), (6, ", 6-pack", 540))

# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Spec:
    """A product before ids, SKUs, EANs and stock are assigned."""

    code: str  # department code
    department: str
    name: str
    brand: str
    price: int
    tax_class: str
    weighed: bool
    plu: str | None  # a real PLU, or None to allocate one (weighed items only)
    attrs: dict[str, str]


def _charm(cents: int) -> int:
    """Round to a shelf price ending in 9 (1.29, 0.99, 12.49)."""
    return min(MAX_UNIT_PRICE, max(_MIN_PRICE, (cents + 5) // 10 * 10 - 1))


def _qualified(name: _Name, qualifier: str) -> str:
    if not qualifier:
        return name.text
    text = name.text if name.proper else name.text[:1].lower() + name.text[1:]
    return f"{qualifier} {text}"


def _packaged_attrs(
    department: _Department, line: _Line, name: _Name, size: _Size
) -> dict[str, str]:
    attrs = {**department.attrs, **line.attrs, **name.attrs, **size.attrs}
    if not attrs.get("allergens", "x"):
        del attrs["allergens"]
    return attrs


def _weighed_attrs(department: _Department, origin: str) -> dict[str, str]:
    attrs = dict(department.weighed_attrs or department.attrs)
    attrs["price_unit"] = "kg"
    if origin:
        attrs["origin"] = origin
    return attrs


def _quotas(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder, stable)."""
    whole = sum(weights)
    exact = [total * weight for weight in weights]
    quotas = [value // whole for value in exact]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] % whole), i))
    for i in by_remainder[: total - sum(quotas)]:
        quotas[i] += 1
    return quotas


def _packaged_specs(
    department: _Department, count: int, rng: random.Random, taken: set[tuple[str, str, str]]
) -> list[_Spec]:
    """``count`` distinct packaged products: names × sizes × brands, then qualifiers, packs."""
    if count <= 0:
        return []
    offsets: list[int] = []
    base = 0
    for line in department.lines:
        offsets.append(base)
        base += line.space
    base *= len(department.brands)
    line_of = [i for i, line in enumerate(department.lines) for _ in range(line.space)]
    per_brand = len(line_of)
    tiers = len(department.qualifiers) * len(_PACKS)
    specs: list[_Spec] = []
    tier = 0
    while len(specs) < count:
        qualifier, qualifier_factor = department.qualifiers[tier % len(department.qualifiers)]
        pack_n, pack_suffix, pack_factor = _PACKS[
            (tier // len(department.qualifiers)) % len(_PACKS)
        ]
        batch = f" (batch {tier // tiers + 1})" if tier >= tiers else ""
        wanted = min(count - len(specs), base)
        # a few extra in the first tier cover combinations the anchors already use
        picks = rng.sample(range(base), min(base, wanted + (len(taken) if tier == 0 else 0)))
        for index in picks:
            brand, brand_factor = department.brands[index // per_brand]
            within = index % per_brand
            line_index = line_of[within]
            line = department.lines[line_index]
            within -= offsets[line_index]
            name = line.names[within // len(line.sizes)]
            size = line.sizes[within % len(line.sizes)]
            full_name = f"{_qualified(name, qualifier)} {size.label}{pack_suffix}{batch}"
            key = (department.code, brand, full_name)
            if key in taken:
                continue
            jitter = rng.randint(90, 112)
            price = _charm(
                size.cents * brand_factor * qualifier_factor * pack_factor * jitter // 100_000_000
            )
            attrs = _packaged_attrs(department, line, name, size)
            if pack_n > 1:
                attrs["pack_size"] = str(pack_n)
            if department.origins:
                attrs["origin"] = rng.choice(department.origins)
            if qualifier:
                attrs["range"] = qualifier.lower()
            specs.append(
                _Spec(
                    department.code,
                    department.name,
                    full_name,
                    brand,
                    price,
                    line.tax_class or department.tax_class,
                    False,
                    None,
                    attrs,
                )
            )
            if len(specs) == count:
                break
        tier += 1
    return specs


def _weighed_specs(
    department: _Department, count: int, rng: random.Random, taken: set[tuple[str, str, str]]
) -> list[_Spec]:
    """``count`` distinct items sold per kg: plain names first, then organic / by origin."""
    if count <= 0 or not department.weighed:
        return []
    variants: list[tuple[str, int, str]] = []
    for origin in ("", *department.origins):
        for grade, factor in department.weighed_grades:
            suffix = "".join(f", {part}" for part in (grade, origin) if part)
            variants.append((suffix, factor, origin))
    specs: list[_Spec] = []
    tier = 0
    while len(specs) < count:
        suffix, factor, origin = variants[tier % len(variants)]
        if tier >= len(variants):
            suffix += f" (batch {tier // len(variants) + 1})"
        for item in rng.sample(department.weighed, len(department.weighed)):
            name = item.name + suffix
            if (department.code, "", name) in taken:
                continue
            jitter = rng.randint(92, 110)
            price = _charm(item.cents_per_kg * factor * jitter // 10_000)
            item_origin = origin or (rng.choice(department.origins) if department.origins else "")
            plu = item.plu if tier == 0 else None
            specs.append(
                _Spec(
                    department.code,
                    department.name,
                    name,
                    "",
                    price,
                    department.tax_class,
                    True,
                    plu,
                    _weighed_attrs(department, item_origin),
                )
            )
            if len(specs) == count:
                break
        tier += 1
    return specs


class _PluAllocator:
    """Unique 4-digit PLUs: real codes are reserved up front, others come from ranges."""

    def __init__(self, reserved: Iterable[str]) -> None:
        self._used = set(reserved)
        self._cursors: dict[tuple[int, int], int] = {}

    def allocate(self, ranges: Sequence[tuple[int, int]]) -> str:
        for bounds in (*ranges, (1000, 9999), (10000, 99999)):
            start, end = bounds
            cursor = self._cursors.get(bounds, start)
            while cursor <= end:
                code = str(cursor)
                cursor += 1
                if code not in self._used:
                    self._cursors[bounds] = cursor
                    self._used.add(code)
                    return code
            self._cursors[bounds] = cursor
        raise RuntimeError("no PLU codes left")  # pragma: no cover - 99,000 codes


def _brand_prefixes() -> dict[str, str]:
    """A GS1 company prefix (7 digits, 400–440 Germany) per brand, stable by definition order."""
    brands: list[str] = ["ShopSmart"]
    for department in _DEPARTMENTS:
        for brand, _ in department.brands:
            if brand not in brands:
                brands.append(brand)
    return {
        brand: f"{400 + i % 41:03d}{(1000 + i * 7919) % 10000:04d}"
        for i, brand in enumerate(brands)
    }


_BRAND_PREFIX = _brand_prefixes()
_REAL_PLUS = frozenset(
    item.plu for department in _DEPARTMENTS for item in department.weighed if item.plu
)


def demo_catalog() -> list[Product]:
    """THE demo catalog: the products of app/data/demo_catalog.csv (the server's ``demo``
    loads the same file)."""
    return [entry.product for entry in demo_catalog_rows()]


def demo_products(count: int | None = None, seed: int = 42) -> list[Product]:
    """The demo catalog, then generated products up to ``count`` (for load tests and
    benchmarks): the same list for the same ``(count, seed)``.

    The first products are always those of ``demo_catalog()`` (all of them when ``count`` is
    None, the first ``count`` otherwise); the generated rest is a shuffled mix of all
    departments in proportion to their usual shelf share, with SKUs, barcodes and ids that
    never collide with the demo catalog's.
    """
    if count is not None and count < 0:
        raise ValueError("count must not be negative")
    fixed = demo_catalog()
    if count is None or count <= len(fixed):
        return fixed[: len(fixed) if count is None else count]
    rng = random.Random(seed)
    # generated products never repeat a demo product's brand and name
    taken = {(d.code, p.brand, p.name) for d in _DEPARTMENTS for p in fixed}
    remaining = count - len(fixed)
    generated: list[_Spec] = []
    quotas = _quotas(remaining, [department.share for department in _DEPARTMENTS])
    for department, quota in zip(_DEPARTMENTS, quotas, strict=True):
        weighed = quota * department.weighed_percent // 100
        generated += _weighed_specs(department, weighed, rng, taken)
        generated += _packaged_specs(department, quota - weighed, rng, taken)
    rng.shuffle(generated)
    return [*fixed, *_build(generated, rng, {code for p in fixed for code in p.barcodes})]


def _build(specs: list[_Spec], rng: random.Random, used: set[str]) -> list[Product]:
    plus = _PluAllocator(_REAL_PLUS | used)
    sku_counters: dict[str, int] = {}
    ean_counters: dict[str, int] = {}
    products: list[Product] = []
    randbytes = rng.randbytes
    random_ = rng.random
    for index, spec in enumerate(specs):
        sku_number = sku_counters.get(spec.code, 0) + 1
        sku_counters[spec.code] = sku_number
        by_weight = spec.weighed
        if by_weight:
            if spec.plu and spec.plu not in used:
                barcode = spec.plu
            else:
                barcode = plus.allocate(_BY_CODE[spec.code].plu_ranges)
            stock: int | None = int(random_() * 600) * 100  # grams, 0–60 kg
        else:
            barcode = ""
            while not barcode or barcode in used:
                item = ean_counters.get(spec.brand, 0) + 1
                ean_counters[spec.brand] = item
                if item > 99_999:  # pragma: no cover - would need > 1.5 M products
                    raise RuntimeError(f"brand {spec.brand!r} ran out of item references")
                barcode = make_ean13(f"{_BRAND_PREFIX[spec.brand]}{item:05d}")
            stock = int(random_() * random_() * 240)
        used.add(barcode)
        products.append(
            Product(
                id=str(uuid7(unix_ms=_EPOCH_MS + index, rand=randbytes(10))),
                sku=f"{spec.code}-{sku_number:05d}",
                name=spec.name,
                unit_price=spec.price,
                tax_class=spec.tax_class,
                sold_by=SoldBy.WEIGHT if by_weight else SoldBy.EACH,
                barcodes=(barcode,),
                brand=spec.brand,
                department=spec.department,
                active=random_() >= 0.01,
                stock=stock,
                attributes=spec.attrs,
            )
        )
    return products


DEMO_FAVOURITES: list[str] = [
    "SS-0001",  # Bananas, loose
    "SS-0011",  # Whole milk 1 L
    "SS-0007",  # Sourdough loaf
    "SS-0008",  # Butter croissant
    "SS-0015",  # Free-range eggs, 10
    "SS-0016",  # Sparkling water 1.5 L
    "SS-0021",  # Spaghetti 500 g
    "SS-0004",  # Avocado, ripe
]
"""SKUs of the demo catalog's everyday items for touch buttons, in button order."""


def favourite_skus(products: Iterable[Product]) -> list[str]:
    """The ``DEMO_FAVOURITES`` found active in ``products``, in button order."""
    active = {product.sku for product in products if product.active}
    return [sku for sku in DEMO_FAVOURITES if sku in active]
