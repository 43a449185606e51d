"""The schema of a city pack's ``city.toml``: typed, closed (an unknown key is an error, so a typo never passes
silently), and checked against the pack's own districts (passed as validation context ``district_ids``).

docs/CITIES.md describes every field; ``cities.pack`` reads the file and reports every problem at once.
"""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from streams.complaints import CHANNELS

IDENTIFIER = r"^[a-z][a-z0-9_]{0,63}$"  # complaint categories and channels: what the event contract accepts
LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"  # a BCP 47 tag: en, zh-CN, th


def _ordered(pair: tuple[float, float]) -> tuple[float, float]:
    if pair[0] > pair[1]:
        raise ValueError(f"a range is [low, high]; {list(pair)} is the wrong way round")
    return pair


def plain_file_name(name: object) -> bool:
    """A file name of the pack's own directory: no path, no parent, nothing hidden."""
    return isinstance(name, str) and bool(name) and not ("/" in name or "\\" in name or name.startswith("."))


def check_bounds(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` in degrees, or ValueError (also IOC_CITY_BOUNDS's check)."""
    west, south, east, north = box
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ValueError("bounds must be west<east and south<north, in degrees")
    return box


Range = Annotated[tuple[float, float], AfterValidator(_ordered)]
Share = Annotated[float, Field(gt=0, le=1_000_000)]


class _Closed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _known_districts(ids: list[str] | dict[str, float], info: ValidationInfo) -> list[str] | dict[str, float]:
    known = (info.context or {}).get("district_ids")
    unknown = sorted(set(ids) - set(known)) if known is not None else []
    if unknown:
        raise ValueError(f"not districts of this pack's boundaries: {', '.join(unknown[:10])}")
    return ids


class City(_Closed):
    """Who the city is: names, clock, language, where it is."""

    names: dict[str, str] = Field(description="The city's name per language; `en` is required.")
    timezone: str = Field(description="IANA time zone of the city's day (KPIs 'today', the simulator's clock).")
    default_language: str = Field(pattern=LANGUAGE, description="Language the IOC starts in (BCP 47).")
    bounds: Annotated[tuple[float, float, float, float], AfterValidator(check_bounds)] = Field(
        description="west, south, east, north (WGS-84 degrees)."
    )
    districts: str = Field("districts.geojson", description="District boundaries file, inside the pack.")
    alert_rules: str | None = Field(None, description="The pack's own alert rules file (else the IOC's default).")

    @field_validator("names")
    @classmethod
    def _english(cls, names: dict[str, str]) -> dict[str, str]:
        if not names.get("en", "").strip():
            raise ValueError("needs an English name (`en`), the fallback of every other language")
        return names

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{name!r} is not an IANA time zone (e.g. America/New_York)") from None
        return name

    @field_validator("districts", "alert_rules")
    @classmethod
    def _inside(cls, name: str | None) -> str | None:
        if name is not None and not plain_file_name(name):
            raise ValueError("a file name inside the pack's directory, not a path")
        return name


class Kpi(_Closed):
    """The targets and baselines the pages measure the city against."""

    pue_baseline: float = Field(gt=1, le=5, description="PUE the 'energy saved' KPI compares with.")
    pue_target: float = Field(gt=1, le=5, description="PUE ceiling drawn on the data-centre page.")
    sla_default_hours: float = Field(gt=0, le=8760, description="SLA of a category not listed in sla_hours.")
    sla_hours: dict[str, Annotated[float, Field(gt=0, le=8760)]] = Field(
        description="Hours a complaint of each category may take from filing to closing."
    )

    @model_validator(mode="after")
    def _target_below_baseline(self) -> Kpi:
        if self.pue_target >= self.pue_baseline:
            raise ValueError(f"pue_target {self.pue_target} must be below pue_baseline {self.pue_baseline}")
        return self


Placement = Literal["people", "area", "shore"]


class _Kind(_Closed):
    """What every device kind has: its share of the devices and where they stand."""

    share: Share
    placement: Placement = "people"


class Traffic(_Kind):
    free_flow_kmh: list[Annotated[float, Field(gt=0, le=200)]] = Field(min_length=1)


class AirQuality(_Kind):
    pm25_typical: Range
    pm10_ratio: Range


class Noise(_Kind):
    daytime_db: Range


class WaterLevel(_Kind):
    placement: Placement = "area"
    tide_amplitude_m: Range
    mean_level_m: Range


class Power(_Kind):
    peak_mw: Range


class Devices(_Closed):
    """Device kinds the simulated city has (a kind left out has no devices); their order is the field order."""

    traffic: Traffic | None = None
    air_quality: AirQuality | None = None
    noise: Noise | None = None
    water_level: WaterLevel | None = None
    power: Power | None = None

    @model_validator(mode="after")
    def _some(self) -> Devices:
        if not self.kinds():
            raise ValueError("at least one device kind")
        return self

    def kinds(self) -> dict[str, Traffic | AirQuality | Noise | WaterLevel | Power]:
        """Kind → its parameters, for the kinds present, in the schema's order."""
        return {name: kind for name in type(self).model_fields if (kind := getattr(self, name)) is not None}


class Category(_Closed):
    name: str = Field(pattern=IDENTIFIER)
    weight: Share
    median_hours: float = Field(gt=0, le=8760)
    descriptions: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(min_length=1)


class DataCentres(_Closed):
    sites: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]] = Field(min_length=1)
    default_count: int = Field(ge=1, le=1000)
    it_capacity_kw: Range
    pue: Range
    inlet_c: Range


class Incident(_Closed):
    chance_in_season: float = Field(ge=0, le=1)
    chance_otherwise: float = Field(ge=0, le=1)
    season_months: list[Annotated[int, Field(ge=1, le=12)]] = []
    districts: Annotated[list[str], AfterValidator(_known_districts)] | None = None
    complaint_category: str | None = None
    complaints_per_hour: float = Field(0.0, ge=0, le=10_000)


class Incidents(_Closed):
    flood: Incident | None = None
    air: Incident | None = None
    cooling: Incident | None = None


class Simulator(_Closed):
    """The simulated city: who lives where, what they report, what breaks."""

    device_prefix: str = Field(pattern=r"^[a-z]{2,8}$")
    request_prefix: str = Field(pattern=r"^[A-Z]{2,8}$")
    complaints_per_hour: float = Field(gt=0, le=100_000)
    population: Annotated[dict[str, Share], AfterValidator(_known_districts)] = {}
    channels: dict[str, Share] = Field(min_length=1, description="How requests arrive, and how often.")
    devices: Devices
    complaints: list[Category] = Field(min_length=1)
    datacenters: DataCentres
    incidents: Incidents = Incidents()

    @field_validator("channels")
    @classmethod
    def _contract_channels(cls, channels: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(channels) - set(CHANNELS.values()))
        if unknown:
            raise ValueError(f"{unknown} are not channels of the event contract (docs/EVENTS.md): "
                             f"{', '.join(sorted(CHANNELS.values()))}")  # fmt: skip
        return channels

    @field_validator("complaints")
    @classmethod
    def _unique_categories(cls, categories: list[Category]) -> list[Category]:
        if len({c.name for c in categories}) != len(categories):
            raise ValueError("complaint category names must be unique")
        return categories

    # A field validator, not a model one, so that it runs (and reports) even when another field is wrong.
    @field_validator("incidents")
    @classmethod
    def _incident_categories(cls, incidents: Incidents, info: ValidationInfo) -> Incidents:
        names = {c.name for c in info.data.get("complaints", [])}
        for kind in ("flood", "air", "cooling"):
            incident = getattr(incidents, kind)
            if names and incident and incident.complaint_category and incident.complaint_category not in names:
                raise ValueError(f"{kind}.complaint_category {incident.complaint_category!r} is not a complaint "
                                 "category of this pack")  # fmt: skip
        return incidents


class PackFile(_Closed):
    """The whole ``city.toml``."""

    city: City
    kpi: Kpi
    simulator: Simulator
