"""The simulated city as one pure generator: give it a time window, get back that window's events.

``CitySimulation.window(start_ms, end_ms)`` returns ``(stream kind, fields)`` pairs (kinds ``iot``,
``complaints``, ``datacenter``; every value a string) for events with ``ts`` in the window. The same seed and
the same sequence of windows give the same events: the I/O loop in ``simulator.publisher`` only decides the
windows (real time or a fast backfill) and writes the result to Redis. Which city it is, and what its people,
devices and data centres do, is the city pack's (``SimConfig.pack``; docs/SIMULATOR.md).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cities.pack import DEFAULT_CITY, CityPack, load_city
from cities.schema import Incident as IncidentRule
from geo.city import CityMap
from simulator import datacenter, incidents
from simulator.clock import CityClock
from simulator.complaints import ComplaintProcess
from simulator.devices import Channel, place_devices, warning_level_m
from simulator.faults import corrupt, outside
from simulator.incidents import Incident, IncidentPlan
from simulator.models import day_haze, factors

Event = tuple[str, dict[str, str]]


def _districts_of(rule: IncidentRule | None) -> set[str] | None:
    """The districts an incident may happen in; None for anywhere."""
    return set(rule.districts) if rule is not None and rule.districts else None


@dataclass(frozen=True, slots=True)
class SimConfig:
    """How big and how busy the simulated city is (defaults from ``Settings.sim_*``)."""

    seed: int
    sensors: int
    readings_per_s: float
    complaints_per_hour: float
    datacenter_sites: int
    datacenter_interval_s: float = 10.0
    malformed_rate: float = 0.0
    max_field_bytes: int = 4096
    scheduled_incidents: bool = True
    pack: CityPack | None = None  # None: the default city's
    timezone: str | None = None  # None: the pack's (IOC_CITY_TIMEZONE overrides it)

    def city_pack(self) -> CityPack:
        """The pack the simulated city follows."""
        return self.pack or load_city(DEFAULT_CITY)


class CitySimulation:
    """Devices, complaint desk and data centres of one seeded city, advanced window by window."""

    def __init__(self, city: CityMap, config: SimConfig) -> None:
        self.config = config
        seed = config.seed
        pack = config.city_pack()
        profile = pack.file.simulator
        self.clock = CityClock(config.timezone or pack.timezone)
        self.channels: list[Channel] = place_devices(city, config.sensors, seed, profile)
        self._hot = [c.hot() for c in self.channels]
        self.sites = datacenter.make_sites(config.datacenter_sites, seed, profile.datacenters)
        self._outside = outside(pack.bounds)
        self._rng_iot = random.Random(f"{seed}:iot")
        self._rng_dc = random.Random(f"{seed}:dc")
        self._rng_faults = random.Random(f"{seed}:faults")
        self.complaints = ComplaintProcess(city, config.complaints_per_hour, random.Random(f"{seed}:complaints"),
                                           profile, self.clock)  # fmt: skip
        self._rules = profile.incidents
        self._gauges, self._air = self._incident_channels()
        targets = {
            incidents.FLOOD: sorted(self._gauges),
            incidents.AIR: sorted(self._air),
            incidents.COOLING: [s.site for s in self.sites],
        }
        self.incidents = IncidentPlan(seed, targets, self._rules, self.clock, scheduled=config.scheduled_incidents)
        self._carry = 0.0
        self._next_channel = 0  # channels report in turn, as a polled fleet does: each once per len(channels) readings

    def _incident_channels(self) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        """What floods and air spikes can hit: channel indices by gauge, and by district's air monitors, in the
        districts the pack allows for each (all when it names none)."""
        flood_in, air_in = _districts_of(self._rules.flood), _districts_of(self._rules.air)
        gauges: dict[str, list[int]] = {}
        air: dict[str, list[int]] = {}
        for index, channel in enumerate(self.channels):
            if channel.kind == "water_level" and (flood_in is None or channel.district in flood_in):
                gauges.setdefault(channel.device_id, []).append(index)
            elif channel.kind == "air_quality" and (air_in is None or channel.district in air_in):
                air.setdefault(channel.district, []).append(index)
        return gauges, air

    def trigger(self, text: str, start_ms: int) -> Incident:
        """Start ``NAME[:TARGET]`` (flood, air, cooling) at ``start_ms``; returns the incident."""
        kind, target = incidents.parse_trigger(text)
        incident = incidents.triggered(kind, target, start_ms, self.config.seed, self.incidents.targets)
        self.incidents.add(incident)
        return incident

    def window(self, start_ms: int, end_ms: int, readings_per_s: float | None = None) -> list[Event]:
        """Every event with ``ts`` in ``[start_ms, end_ms)`` (complaint steps due by ``end_ms`` included).

        Keep windows short (seconds): day shapes and incident intensities are evaluated once per window.
        """
        readings, others = self.window_values(start_ms, end_ms, readings_per_s)
        events = self._format(readings)
        events.extend(others)
        if self.config.malformed_rate > 0:
            events = self._spoil(events)
        return events

    def window_values(
        self, start_ms: int, end_ms: int, readings_per_s: float | None = None
    ) -> tuple[list[tuple[int, int, float]], list[Event]]:
        """The window's readings as numbers, ``(channel index, ts ms, value)``, and its other events as fields.

        What ``window`` formats; a back-fill that writes straight to the database skips the strings."""
        mid = (start_ms + end_ms) // 2
        active = self.incidents.active(start_ms, end_ms)
        rate = self.config.readings_per_s if readings_per_s is None else readings_per_s
        readings = self._readings(start_ms, end_ms, rate, active)
        for incident in active:
            rule = getattr(self._rules, incident.kind)
            if rule is not None and rule.complaint_category and incident.kind != incidents.COOLING:
                district = self._incident_district(incident)
                self.complaints.surge(start_ms, end_ms, rule.complaints_per_hour * incident.intensity(mid),
                                      rule.complaint_category, district)  # fmt: skip
        others: list[Event] = [("complaints", fields) for fields in self.complaints.advance(start_ms, end_ms)]
        others.extend(self._samples(start_ms, end_ms, active))
        return readings, others

    def _readings(
        self, start_ms: int, end_ms: int, rate: float, active: list[Incident]
    ) -> list[tuple[int, int, float]]:
        self._carry += rate * (end_ms - start_ms) / 1000.0
        count = int(self._carry)
        self._carry -= count
        if count == 0:
            return []
        mid = (start_ms + end_ms) // 2
        factor = factors(mid, day_haze(self.config.seed, mid, self.clock), self.clock)
        overrides = self._overrides(mid, active)
        hot, rnd, span, n_channels = self._hot, self._rng_iot.random, end_ms - start_ms, len(self._hot)
        first = self._next_channel
        self._next_channel = (first + count) % n_channels
        out: list[tuple[int, int, float]] = []
        append = out.append
        for i in range(count):
            index = (first + i) % n_channels
            _, model, a, b, jitter, lowest, _, _ = hot[index]
            value = a * factor[model] + b + jitter * (rnd() - 0.5)
            if overrides and index in overrides:
                weight, peak = overrides[index]
                value = (1.0 - weight) * value + weight * peak
            if value < lowest:
                value = lowest
            append((index, start_ms + i * span // count, value))
        return out

    def _format(self, readings: list[tuple[int, int, float]]) -> list[Event]:
        """Readings as stream fields: the device's fixed fields, the value at its precision, ``ts`` in its style."""
        hot, iso_local = self._hot, self.clock.iso_local
        out: list[Event] = []
        append = out.append
        for index, ms, value in readings:
            fields, _, _, _, _, _, fmt, iso_ts = hot[index]
            reading = fields.copy()
            reading["value"] = fmt % value
            reading["ts"] = iso_local(ms) if iso_ts else str(ms)
            append(("iot", reading))
        return out

    def _overrides(self, ms: int, active: list[Incident]) -> dict[int, tuple[float, float]]:
        """Channel index → (intensity, peak value) for the readings incidents are bending now."""
        found: dict[int, tuple[float, float]] = {}
        for incident in active:
            weight = incident.intensity(ms)
            if weight <= 0:
                continue
            if incident.kind == incidents.FLOOD:
                for index in self._gauges[incident.target]:
                    peak = warning_level_m(self.channels[index]) + incidents.FLOOD_OVER_WARNING_M
                    found[index] = (weight, peak)
            elif incident.kind == incidents.AIR:
                for index in self._air[incident.target]:
                    # Monitors differ by ±10 % around the peak, so the district's map is not one flat colour.
                    peak = incidents.AIR_PEAK[self.channels[index].metric] * (0.9 + 0.2 * (index % 7) / 6)
                    found[index] = (weight, peak)
        return found

    def _incident_district(self, incident: Incident) -> str:
        if incident.kind == incidents.AIR:
            return incident.target
        return self.channels[self._gauges[incident.target][0]].district

    def _samples(self, start_ms: int, end_ms: int, active: list[Incident]) -> list[Event]:
        failing = {i.target: i for i in active if i.kind == incidents.COOLING}
        out: list[Event] = []
        for ms in datacenter.sample_times(start_ms, end_ms, int(self.config.datacenter_interval_s * 1000)):
            hour = self.clock.local_hour(ms)
            for site in self.sites:
                state = datacenter.normal_state(site, hour, self._rng_dc)
                incident = failing.get(site.site)
                if incident is not None:
                    w = incident.intensity(ms)
                    state = datacenter.SampleState(
                        pue=(1 - w) * state.pue + w * incidents.COOLING_PEAK_PUE,
                        inlet_c=(1 - w) * state.inlet_c + w * incidents.COOLING_PEAK_INLET_C,
                    )
                out.append(("datacenter", datacenter.sample(site, ms, hour, state, self._rng_dc)))
        return out

    def _spoil(self, events: list[Event]) -> list[Event]:
        rnd, rate, limit = self._rng_faults.random, self.config.malformed_rate, self.config.max_field_bytes
        return [
            (kind, corrupt(kind, fields, self._rng_faults, limit, self._outside)) if rnd() < rate else (kind, fields)
            for kind, fields in events
        ]
