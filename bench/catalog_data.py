# ruff: noqa: E501  (the category table reads best one category a line)
"""The catalog search benchmark's data: master products with realistic names, brands, categories.

Each master reads like a marketplace listing: "<Brand> <model number> <feature> <noun>, <size>,
<colour>" ("Korvane KV-4820B Wireless Noise Cancelling Headphones, Black"), in one of 24
categories whose nouns, features, sizes and price ranges belong together, over 240 brands that each
sell in a few categories. Everything derives from a seeded random generator, so two runs build the
same catalog. The match fields (normalised name, model codes, match text) come from the catalog's
own ``catalog.mapping.match_fields``, as a master made by the mapping service has them, and the
rows go in with ``COPY``. About 6% of the masters are offered by no shop (``vendor_count`` 0: the
storefront hides them); the others by 1 to 12 shops, most by one or two.
"""

from __future__ import annotations

import io
import json
import random
import uuid
from datetime import UTC, datetime, timedelta

#: (category, nouns, features, sizes, colours?, lowest and highest "from" price)
CATEGORIES = (
    ("Headphones", ("Headphones", "Earbuds", "Headset"),
     ("Wireless", "Noise Cancelling", "Bluetooth", "Over-Ear", "In-Ear", "Sport"), (), True, (15, 400)),
    ("Televisions", ("LED TV", "OLED TV", "Smart TV", "QLED TV"),
     ("4K Ultra HD", "HDR", "Full HD", "120Hz"), ("32 inch", "43 inch", "55 inch", "65 inch", "75 inch"), False, (180, 2500)),
    ("Laptops", ("Laptop", "Notebook", "Chromebook", "Ultrabook"),
     ("14-Inch", "15.6-Inch", "Touchscreen", "Gaming", "Thin and Light"), ("256GB SSD", "512GB SSD", "1TB SSD"), True, (250, 2400)),
    ("Phones", ("Smartphone", "Phone Case", "Screen Protector", "Charger"),
     ("Unlocked", "Dual SIM", "Fast Charging", "Rugged"), ("64GB", "128GB", "256GB"), True, (8, 1200)),
    ("Cameras", ("Digital Camera", "Mirrorless Camera", "Action Camera", "Camera Lens"),
     ("Compact", "Waterproof", "Zoom", "Wide Angle"), ("12MP", "20MP", "24MP"), True, (90, 2200)),
    ("Speakers", ("Bluetooth Speaker", "Soundbar", "Bookshelf Speakers", "Smart Speaker"),
     ("Portable", "Waterproof", "Wireless", "Stereo"), ("20W", "40W", "100W"), True, (20, 700)),
    ("Kitchen Appliances", ("Blender", "Coffee Maker", "Toaster", "Air Fryer", "Kettle"),
     ("Stainless Steel", "Programmable", "Compact", "Digital"), ("1.7 l", "4 qt", "6 qt", "1200W"), True, (20, 450)),
    ("Cookware", ("Frying Pan", "Saucepan", "Dutch Oven", "Cookware Set", "Stock Pot"),
     ("Non-Stick", "Cast Iron", "Stainless Steel", "Induction"), ("8 inch", "10 inch", "12 inch", "5 qt"), True, (15, 380)),
    ("Furniture", ("Office Chair", "Desk", "Bookshelf", "Sofa", "Coffee Table"),
     ("Ergonomic", "Adjustable", "Solid Wood", "Mid-Century"), (), True, (60, 1500)),
    ("Bedding", ("Sheet Set", "Duvet Cover", "Pillow", "Mattress Topper", "Blanket"),
     ("Cotton", "Linen", "Bamboo", "Memory Foam"), ("Twin", "Queen", "King"), True, (15, 300)),
    ("Running Shoes", ("Running Shoes", "Trail Shoes", "Sneakers"),
     ("Lightweight", "Cushioned", "Waterproof", "Breathable"), ("Size 8", "Size 9", "Size 10", "Size 11"), True, (40, 220)),
    ("Outdoor", ("Tent", "Sleeping Bag", "Backpack", "Camping Chair", "Headlamp"),
     ("Ultralight", "Waterproof", "4-Season", "Rechargeable"), ("2-Person", "4-Person", "30 l", "50 l"), True, (15, 600)),
    ("Cycling", ("Bike Helmet", "Bike Light", "Bike Lock", "Cycling Jersey"),
     ("Aero", "USB Rechargeable", "Heavy Duty", "Reflective"), ("Small", "Medium", "Large"), True, (12, 250)),
    ("Tools", ("Cordless Drill", "Impact Driver", "Circular Saw", "Tool Set", "Screwdriver Set"),
     ("Brushless", "20V", "18V", "Heavy Duty"), ("2-Piece", "45-Piece", "100-Piece"), False, (15, 450)),
    ("Garden", ("Garden Hose", "Lawn Mower", "Pruning Shears", "Planter", "Leaf Blower"),
     ("Expandable", "Cordless", "Electric", "Ceramic"), ("50 ft", "100 ft", "12 inch"), True, (10, 650)),
    ("Toys", ("Building Set", "Puzzle", "Board Game", "Remote Control Car", "Plush Toy"),
     ("Educational", "Classic", "Family", "STEM"), ("500 Pieces", "1000 Pieces"), True, (8, 150)),
    ("Books", ("Cookbook", "Novel", "Travel Guide", "Notebook", "Planner"),
     ("Hardcover", "Paperback", "Illustrated", "Dotted"), ("A5", "A4"), False, (6, 60)),
    ("Coffee and Tea", ("Coffee Beans", "Ground Coffee", "Green Tea", "Black Tea", "Espresso Pods"),
     ("Organic", "Single Origin", "Decaf", "Dark Roast", "Fair Trade"), ("12 oz", "2 lb", "100 Bags"), False, (6, 45)),
    ("Snacks", ("Granola", "Protein Bars", "Trail Mix", "Dark Chocolate", "Crackers"),
     ("Organic", "Gluten-Free", "Vegan", "Low Sugar"), ("12-Pack", "24-Pack", "16 oz"), False, (3, 40)),
    ("Beauty", ("Face Cream", "Shampoo", "Conditioner", "Serum", "Sunscreen"),
     ("Hydrating", "Fragrance-Free", "Vitamin C", "SPF 50"), ("50 ml", "250 ml", "500 ml"), False, (5, 90)),
    ("Pet Supplies", ("Dog Food", "Cat Litter", "Dog Bed", "Cat Tree", "Pet Carrier"),
     ("Grain-Free", "Orthopedic", "Clumping", "Airline Approved"), ("5 lb", "15 lb", "30 lb"), True, (8, 220)),
    ("Watches", ("Smartwatch", "Fitness Tracker", "Dive Watch", "Chronograph"),
     ("GPS", "Heart Rate", "Solar", "Automatic"), ("40mm", "44mm"), True, (30, 900)),
    ("Storage", ("External Hard Drive", "USB Flash Drive", "Memory Card", "Portable SSD"),
     ("USB-C", "High Speed", "Rugged", "Encrypted"), ("64GB", "256GB", "1TB", "2TB"), True, (8, 300)),
    ("Networking", ("Wi-Fi Router", "Mesh System", "Network Switch", "Range Extender"),
     ("Dual Band", "Tri-Band", "Gigabit", "Wi-Fi 6"), ("5-Port", "8-Port", "2-Pack", "3-Pack"), False, (25, 500)),
)  # fmt: skip
COLOURS = ("Black", "White", "Silver", "Blue", "Red", "Grey", "Green", "Rose Gold", "Navy")
SYLLABLES = (
    "kor", "van", "el", "ta", "mi", "ro", "sa", "lu", "ne", "dor", "quin", "ba", "zen", "fi",
    "lo", "ar", "ex", "ion", "ka", "vo", "tri", "sol", "nor", "ve", "pax", "li", "um", "ora",
)  # fmt: skip
BRANDS = 240
DESCRIPTIONS = (
    "{feature} {noun} from {brand}, built for everyday use.",
    "The {brand} {model} {noun}: {feature_lower}, with a two-year warranty.",
    "A {feature_lower} {noun_lower} that customers rate for its value. Model {model}.",
    "{brand}'s best-selling {noun_lower}, now in {colour_lower}.",
)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def brand_names(rng: random.Random) -> list[str]:
    names: set[str] = set()
    while len(names) < BRANDS:
        parts = rng.choice((2, 2, 3))
        names.add("".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize())
    return sorted(names)


def model_number(rng: random.Random, brand: str) -> str:
    prefix = (brand[0] + rng.choice("ABCDEFGHKLMNPRSTVXZ")).upper()
    suffix = rng.choice(("", "", "B", "X", "S", "M4", "PRO"))
    return f"{prefix}-{rng.randint(100, 9999)}{suffix}"


def masters(count: int, seed: int = 13):
    """Yields (row dict) for ``count`` masters; brands and categories as names."""
    rng = random.Random(seed)
    brands = brand_names(rng)
    # Each brand sells in two to four categories.
    brand_categories = {
        brand: rng.sample(range(len(CATEGORIES)), rng.randint(2, 4)) for brand in brands
    }
    by_category: dict[int, list[str]] = {i: [] for i in range(len(CATEGORIES))}
    for brand, categories in brand_categories.items():
        for index in categories:
            by_category[index].append(brand)
    for number in range(count):
        index = rng.randrange(len(CATEGORIES))
        category, nouns, features, sizes, coloured, (low, high) = CATEGORIES[index]
        brand = rng.choice(by_category[index] or brands)
        noun, feature = rng.choice(nouns), rng.choice(features)
        model = model_number(rng, brand)
        colour = rng.choice(COLOURS) if coloured and rng.random() < 0.7 else None
        name = f"{brand} {model} {feature} {noun}"
        if sizes and rng.random() < 0.8:
            name += f", {rng.choice(sizes)}"
        if colour:
            name += f", {colour}"
        description = rng.choice(DESCRIPTIONS).format(
            feature=feature,
            noun=noun,
            brand=brand,
            model=model,
            feature_lower=feature.lower(),
            noun_lower=noun.lower(),
            colour_lower=(colour or "black").lower(),
        )
        shops = 0 if rng.random() < 0.06 else min(12, int(rng.expovariate(0.6)) + 1)
        price = round(rng.uniform(low, high), 2) if shops or rng.random() < 0.5 else None
        spread = round(price * rng.uniform(0, 0.35), 2) if price is not None and shops > 1 else 0
        yield {
            "number": number,
            "name": name,
            "description": description,
            "brand": brand,
            "category": category,
            "model": model,
            "vendor_count": shops,
            "lowest_price": price,
            "highest_price": None if price is None else round(price + spread, 2),
            "total_inventory": shops * rng.randint(0, 40),
            "created_at": NOW - timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60)),
        }


def load(count: int, seed: int = 13) -> None:
    """Brands, categories and ``count`` masters into the app's database (in an app context)."""
    import sqlalchemy as sa

    from portal.catalog.mapping import match_fields
    from portal.catalog.services import ensure_brands, get_or_create_category
    from portal.extensions import db

    brand_ids = ensure_brands(brand_names(random.Random(seed)))
    category_ids = {name: get_or_create_category(name).id for name, *_ in CATEGORIES}
    db.session.commit()
    columns = (
        "id", "name", "normalized_name", "description", "category_id", "brand_id",
        "lowest_price", "highest_price", "total_inventory", "vendor_count", "attributes", "slug",
        "meta_title", "meta_description", "model_codes", "match_text", "created_at", "updated_at",
    )  # fmt: skip
    buffer = io.StringIO()
    for row in masters(count, seed):
        attributes = {"model": row["model"]}
        fields = match_fields(
            row["name"], brand=row["brand"], description=row["description"], attributes=attributes
        )
        values = (
            uuid.UUID(int=row["number"] + 1),
            row["name"],
            fields["normalized_name"],
            row["description"],
            category_ids[row["category"]],
            brand_ids[row["brand"]],
            row["lowest_price"],
            row["highest_price"],
            row["total_inventory"],
            row["vendor_count"],
            json.dumps(attributes),
            f"master-{row['number'] + 1}",
            row["name"][:255],
            row["description"][:160],
            "{" + ",".join(fields["model_codes"]) + "}",
            fields["match_text"],
            row["created_at"].isoformat(),
            row["created_at"].isoformat(),
        )
        buffer.write("\t".join(_copy_text(value) for value in values) + "\n")
    raw = db.session.connection().connection.driver_connection
    statement = f"COPY master_products ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(buffer.getvalue())
    db.session.commit()
    db.session.execute(sa.text("ANALYZE master_products"))
    db.session.commit()


def _copy_text(value) -> str:
    if value is None:
        return r"\N"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")
