"""Does a free text name the company? Texts that travel to those who see only the code name (a partner's
request, by mail and webhook) must not, or the NDA leaks through a sentence."""

import re

from events.details import Company

# Legal forms and filler that do not identify a company by themselves.
_LEGAL_FORMS = re.compile(
    r"\b(b\.?\s?v\.?|n\.?\s?v\.?|v\.?o\.?f\.?|c\.?v\.?|holding|group|groep)(?=\s|$)", re.I
)
MIN_DISTINCTIVE_LENGTH = 4


def names_company(text: str, company: Company) -> bool:
    """True when `text` contains the company's distinctive name, KvK number or website domain."""
    folded = _fold(text)
    marks = [_fold(_LEGAL_FORMS.sub(" ", company.name)), company.kvk_number or "", _domain(company.website)]
    return any(len(mark) >= MIN_DISTINCTIVE_LENGTH and mark in folded for mark in marks)


def _fold(text: str) -> str:
    return " ".join(re.sub(r"[^\w.]+", " ", text.casefold()).split()).strip(" .")


def _domain(website: str | None) -> str:
    if not website:
        return ""
    host = re.sub(r"^[a-z]+://", "", website.casefold()).split("/")[0]
    return host.removeprefix("www.")
