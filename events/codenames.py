"""Code names shown wherever a company's identity is not disclosed (e.g. "Project Kraanvogel 12")."""

from uuid import UUID

_BIRDS = (
    "Aalscholver",
    "Bergeend",
    "Blauwborst",
    "Boomvalk",
    "Bruine Kiekendief",
    "Buizerd",
    "Dodaars",
    "Eider",
    "Fuut",
    "Goudplevier",
    "Grutto",
    "Havik",
    "Holenduif",
    "Houtsnip",
    "IJsvogel",
    "Kemphaan",
    "Kievit",
    "Kluut",
    "Koekoek",
    "Kraanvogel",
    "Kwartel",
    "Lepelaar",
    "Merel",
    "Nachtegaal",
    "Oehoe",
    "Ooievaar",
    "Patrijs",
    "Purperreiger",
    "Roerdomp",
    "Rietzanger",
    "Scholekster",
    "Slechtvalk",
    "Smient",
    "Sperwer",
    "Spreeuw",
    "Steenuil",
    "Tapuit",
    "Torenvalk",
    "Tureluur",
    "Visdief",
    "Wielewaal",
    "Wulp",
    "Zeearend",
    "Zilverreiger",
    "Zwarte Stern",
    "Zwaluw",
    "Wespendief",
    "Geelgors",
    "Boomklever",
)


def code_name_for(lead_id: UUID) -> str:
    """The lead's code name, derived from its id so every process computes the same one."""
    number = lead_id.int
    bird = _BIRDS[number % len(_BIRDS)]
    return f"Project {bird} {number // len(_BIRDS) % 99 + 1}"
