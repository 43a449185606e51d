"""A pack's district boundaries, checked: a GeoJSON FeatureCollection whose features carry ``id`` and a name per
language (``name_en`` required, ``name_zh``, ``name_th``, … where the source has them), each a valid (Multi)Polygon
inside the pack's bounds. ``read_districts`` returns the names, or adds every problem it finds to ``problems``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import shapely
from shapely.geometry import shape

DISTRICT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
NAME_PREFIX = "name_"
MAX_FEATURES = 1000  # a city has dozens of districts; thousands would be a wrong file


def language_of(key: str) -> str:
    """``name_zh`` → ``zh``, ``name_zh_hant`` → ``zh-hant``: the language a name property is in."""
    return key.removeprefix(NAME_PREFIX).replace("_", "-").lower()


def read_districts(
    path: Path, bounds: tuple[float, float, float, float] | None, problems: list[str]
) -> dict[str, dict[str, str]]:
    """District id → {language: name}, in the file's order; problems go to ``problems`` (all of them)."""
    where = path.name
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{where}: the district boundaries file is missing")
        return {}
    except OSError as bad:
        problems.append(f"{where}: cannot be read ({bad.strerror})")
        return {}
    except (ValueError, UnicodeDecodeError) as bad:
        problems.append(f"{where}: not valid JSON ({bad})")
        return {}
    features = collection.get("features") if isinstance(collection, Mapping) else None
    if not isinstance(features, list) or not features or len(features) > MAX_FEATURES:
        problems.append(f"{where}: a FeatureCollection with 1 to {MAX_FEATURES} district features is expected")
        return {}
    names: dict[str, dict[str, str]] = {}
    for number, feature in enumerate(features, 1):
        found = _feature(feature, f"{where}: feature {number}", bounds, problems)
        if found is None:
            continue
        district_id, languages = found
        if district_id in names:
            problems.append(f"{where}: feature {number}: district id {district_id!r} is used twice")
        names[district_id] = languages
    return names


def _feature(
    feature: object, where: str, bounds: tuple[float, float, float, float] | None, problems: list[str]
) -> tuple[str, dict[str, str]] | None:
    props = feature.get("properties") if isinstance(feature, Mapping) else None
    if not isinstance(props, Mapping):
        problems.append(f"{where}: has no properties")
        return None
    district_id = props.get("id")
    if not isinstance(district_id, str) or not DISTRICT_ID.match(district_id):
        problems.append(f"{where}: `id` {district_id!r} is not a district id (lower case letters, digits, - and _)")
        district_id = None
    languages = {language_of(k): v.strip() for k, v in props.items()
                 if k.startswith(NAME_PREFIX) and isinstance(v, str) and v.strip()}  # fmt: skip
    if "en" not in languages:
        problems.append(f"{where}: needs an English name (`name_en`)")
    _geometry(feature.get("geometry"), where, bounds, problems)  # type: ignore[union-attr]
    return None if district_id is None else (district_id, languages)


def _geometry(raw: object, where: str, bounds: tuple[float, float, float, float] | None, problems: list[str]) -> None:
    if not isinstance(raw, Mapping) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        problems.append(f"{where}: geometry must be a Polygon or MultiPolygon")
        return
    try:
        geometry = shape(raw)
    except (ValueError, TypeError, KeyError, IndexError, shapely.errors.ShapelyError) as bad:
        problems.append(f"{where}: unreadable geometry ({bad})")
        return
    if geometry.is_empty or not geometry.is_valid:
        problems.append(f"{where}: geometry is empty or invalid ({shapely.is_valid_reason(geometry)})")
    elif bounds is not None:
        west, south, east, north = geometry.bounds
        if west < bounds[0] or south < bounds[1] or east > bounds[2] or north > bounds[3]:
            problems.append(f"{where}: reaches outside the city's bounds (WGS-84 lon/lat expected)")
