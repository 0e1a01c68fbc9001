"""Which authority an extract's ``LA`` cell or folder names: a name or an ONS code.

Regional extracts name the authority in an ``LA`` column, or keep one folder per
authority, written as the authority's name (``Bracknell Forest``, ``Brighton & Hove``) or
its ONS code (``E06000036``). They are matched, ignoring case, spacing, punctuation and
``&`` for ``and``, against the English authorities of the DfE releases
(:func:`lacstats.datasets.english_authorities`). A label that matches none is kept as it
is written, with no code: an extract of synthetic or renamed authorities still reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

import pandas as pd

from lacstats import datasets

__all__ = ["resolve"]


def _key(label: str) -> str:
    text = label.lower().replace("&", " and ")
    text = re.sub(r"\b(city of|county council|council|borough of|royal borough of)\b", " ", text)
    text = re.sub(r"^\s*county\s+", "", text)
    return re.sub(r"[^a-z0-9]+", "", text)


@cache
def _lookup() -> tuple[dict[str, tuple[str, str, str]], dict[str, tuple[str, str, str]]]:
    table = datasets.english_authorities()
    by_name: dict[str, tuple[str, str, str]] = {}
    by_code: dict[str, tuple[str, str, str]] = {}
    for name, code, kind in table[["authority", "la_code", "authority_type"]].itertuples(
        index=False
    ):
        by_name.setdefault(_key(name), (name, code, kind))
        by_code[code.upper()] = (name, code, kind)
    return by_name, by_code


def resolve(labels: Iterable[str]) -> pd.DataFrame:
    """One row per distinct label: ``label``, ``authority`` (the DfE name, or the label),
    ``la_code`` (ONS code, missing when unmatched), ``authority_type`` (``County`` or
    ``Unitary``, missing when unmatched) and ``matched``.

    Examples
    --------
    >>> from lacstats.ssda903 import resolve
    >>> resolve(["E06000036", "brighton & hove"])[["authority", "la_code"]].values.tolist()
    [['Bracknell Forest', 'E06000036'], ['Brighton and Hove', 'E06000043']]
    """
    by_name, by_code = _lookup()
    rows = []
    for label in dict.fromkeys(str(x).strip() for x in labels):
        found = by_code.get(label.upper()) or by_name.get(_key(label))
        if found is None:
            rows.append((label, label, pd.NA, pd.NA, False))
        else:
            rows.append((label, *found, True))
    return pd.DataFrame(
        rows, columns=["label", "authority", "la_code", "authority_type", "matched"]
    ).astype({"la_code": "string", "authority_type": "string", "matched": bool})
