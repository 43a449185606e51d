"""A district's name in a language: the one place every page asks, with English as the fallback.

Names come from the district GeoJSON's properties ``name_<language>`` (``name_en``, ``name_zh`` today); a city
pack can bring more. Until it does, ``EXTRA_NAMES`` holds the Thai names of Shenzhen's districts.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path

# language code → the GeoJSON property holding names in it
PROPERTIES = {"en": "name_en", "zh-CN": "name_zh", "th": "name_th"}
# Shenzhen's districts in Thai (the Royal Institute's transcription of Mandarin), until a city pack carries them.
EXTRA_NAMES: dict[str, dict[str, str]] = {
    "th": {"luohu": "หลัวหู", "futian": "ฝูเถียน", "nanshan": "หนานซาน", "baoan": "เป่าอัน", "longgang": "หลงกั่ง",
           "yantian": "เหยียนเถียน", "longhua": "หลงหัว", "pingshan": "ผิงซาน", "guangming": "กวางหมิง"},
}  # fmt: skip


@functools.cache  # one district file per process (a handful of names); the path is the setting's
def district_names(geojson_path: str) -> dict[str, dict[str, str]]:
    """District id → {language → name} from the district GeoJSON, with ``EXTRA_NAMES`` where it has none."""
    collection = json.loads(Path(geojson_path).read_text(encoding="utf-8"))
    return names_from_features(collection.get("features", []))


def names_from_features(features: list[Mapping]) -> dict[str, dict[str, str]]:
    """Pure part of ``district_names``: each feature's id and names by language."""
    table: dict[str, dict[str, str]] = {}
    for feature in features:
        props = feature.get("properties") or {}
        district = str(props.get("id", ""))
        names = {lang: str(props[key]) for lang, key in PROPERTIES.items() if props.get(key)}
        for lang, extra in EXTRA_NAMES.items():
            if lang not in names and district in extra:
                names[lang] = extra[district]
        table[district] = names
    return table


def district_label(district: str, language: str, names: Mapping[str, Mapping[str, str]]) -> str:
    """``district`` (an id, or an English or Chinese name) in ``language``; English, then the id, when there is
    no name in it."""
    own = names.get(district) or next(
        (each for each in names.values() if district in each.values()), None
    )  # a name rather than an id
    if not own:
        return district
    return own.get(language) or own.get("en") or district
