"""Load a city pack: a directory with ``city.toml``, the district boundaries it names, and ``SOURCE.md``.

``load_city("new-york")`` (a shipped pack's name) or ``load_city("/srv/packs/lyon")`` (a directory) returns a
checked, read-only ``CityPack``, or raises ``CityPackError`` listing every problem found, so that the person
making a pack fixes them in one round. Loaded packs are remembered per directory and file times.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from cities.districts import read_districts
from cities.schema import PackFile, plain_file_name

PACKS_DIR = Path(__file__).resolve().parent
DEFAULT_CITY = "shenzhen"
FALLBACK_LANGUAGE = "en"
_PACK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class CityPackError(ValueError):
    """A pack that cannot be used, with every problem found in it."""

    def __init__(self, where: str, problems: list[str]) -> None:
        self.where, self.problems = where, problems
        super().__init__(f"city pack {where} has {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))


@dataclass(frozen=True)
class CityPack:
    """One city: its checked ``city.toml`` (``city``, ``kpi``, ``simulator``), its districts' names, its files."""

    directory: Path
    file: PackFile
    district_names: dict[str, dict[str, str]]  # id → {language: name}, in the boundaries file's order

    @property
    def key(self) -> str:
        """The pack's directory name (``shenzhen``, ``new-york``)."""
        return self.directory.name

    @property
    def districts_path(self) -> Path:
        """The district boundaries (GeoJSON) inside the pack."""
        return self.directory / self.file.city.districts

    @property
    def alert_rules_path(self) -> Path | None:
        """The pack's own alert rules (TOML), or None when it uses the IOC's default file."""
        name = self.file.city.alert_rules
        return None if name is None else self.directory / name

    @property
    def timezone(self) -> str:
        return self.file.city.timezone

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return self.file.city.bounds

    @property
    def default_language(self) -> str:
        return self.file.city.default_language

    def name(self, language: str = FALLBACK_LANGUAGE) -> str:
        """The city's name in ``language``, else in English."""
        return _pick(self.file.city.names, language) or self.file.city.names[FALLBACK_LANGUAGE]

    def district_name(self, district_id: str, language: str = FALLBACK_LANGUAGE) -> str:
        """A district's name in ``language`` (``zh-CN`` also finds ``zh``), else English, else its id."""
        names = self.district_names.get(district_id, {})
        return _pick(names, language) or names.get(FALLBACK_LANGUAGE) or district_id


def _pick(names: dict[str, str], language: str) -> str | None:
    tag = language.strip().lower()
    return names.get(tag) or names.get(tag.split("-")[0])


def pack_directory(city: str) -> Path:
    """Where the pack ``city`` is: a shipped pack's name (``cities/<name>/``) or a directory path."""
    if _PACK_NAME.match(city) and (PACKS_DIR / city / "city.toml").is_file():
        return PACKS_DIR / city
    path = Path(city).expanduser()
    if ("/" in city or path.is_dir()) and path.is_dir():
        return path.resolve()
    raise CityPackError(city, [f"no such city pack; shipped: {', '.join(shipped_packs())}, or give a directory"])


def shipped_packs() -> list[str]:
    """Names of the packs shipped in ``cities/``."""
    return sorted(p.parent.name for p in PACKS_DIR.glob("*/city.toml"))


def load_city(city: str = DEFAULT_CITY) -> CityPack:
    """The checked pack ``city`` (a shipped name or a directory); ``CityPackError`` lists every problem."""
    directory = pack_directory(city)
    stamps = tuple(p.stat().st_mtime_ns for p in sorted(directory.iterdir()) if p.is_file())
    return _load(directory, stamps)


@lru_cache(maxsize=16)
def _load(directory: Path, _stamps: tuple[int, ...]) -> CityPack:
    problems: list[str] = []
    document = _toml(directory / "city.toml", problems)
    if not (directory / "SOURCE.md").is_file():
        problems.append("SOURCE.md is missing: say where the boundaries and figures come from, and their licence")
    city = document.get("city") if isinstance(document.get("city"), dict) else {}
    districts_file = _inside(directory, city.get("districts", "districts.geojson"))
    names = read_districts(districts_file, _bounds(city.get("bounds")), problems) if districts_file else {}
    rules_file = _inside(directory, city.get("alert_rules"))
    if rules_file and not rules_file.is_file():
        problems.append(f"city.toml: city.alert_rules: {rules_file.name} is not a file of the pack")
    file = None
    try:
        file = PackFile.model_validate(document, context={"district_ids": list(names)} if names else None)
    except ValidationError as bad:
        problems.extend(f"city.toml: {_where(e['loc'])}: {e['msg']}" for e in bad.errors())
    if problems or file is None:
        raise CityPackError(str(directory), problems)
    return CityPack(directory, file, names)


def _toml(path: Path, problems: list[str]) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append("city.toml is missing")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as bad:
        problems.append(f"city.toml: not valid TOML ({bad})")
    return {}


def _inside(directory: Path, name: object) -> Path | None:
    """``directory / name`` for a plain file name; None for anything else (the schema says what is wrong)."""
    return directory / name if plain_file_name(name) else None  # type: ignore[operator]


def _bounds(raw: object) -> tuple[float, float, float, float] | None:
    """The bounds to check the boundaries against, when they are readable (the schema reports them otherwise)."""
    if isinstance(raw, list) and len(raw) == 4 and all(isinstance(v, int | float) for v in raw):
        return tuple(float(v) for v in raw)  # type: ignore[return-value]
    return None


def _where(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "(top)"
