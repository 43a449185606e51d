"""The words for the IOC's fixed vocabularies (complaint categories, statuses, channels, sensor kinds and
metrics, alert severities and states) in the request's language.

A value that is not in a vocabulary (a producer's new category, a device's own metric) is shown as it came:
it is data, not a word of ours.
"""

from __future__ import annotations

from i18n.current import N_, _

TERMS: dict[str, dict[str, str]] = {
    "category": {
        "noise": N_("noise"), "illegal_parking": N_("illegal parking"), "garbage": N_("garbage"),
        "construction": N_("construction"), "environment": N_("environment"), "road_damage": N_("road damage"),
        "water_supply": N_("water supply"), "property_management": N_("property management"),
        "street_light": N_("street light"), "traffic_signal": N_("traffic signal"),
        "public_security": N_("public security"), "waterlogging": N_("waterlogging"),
    },
    "complaint_status": {"open": N_("open"), "in_progress": N_("in progress"), "closed": N_("closed")},
    "channel": {"app": N_("app"), "hotline": N_("hotline"), "wechat": N_("WeChat"), "web": N_("web")},
    "kind": {
        "traffic": N_("traffic"), "air_quality": N_("air quality"), "noise": N_("noise"),
        "water_level": N_("water level"), "power": N_("power"),
    },
    "metric": {
        "speed_kmh": N_("speed"), "pm25": N_("PM2.5"), "pm10": N_("PM10"), "laeq_db": N_("noise level"),
        "level_m": N_("water level"), "load_mw": N_("load"), "inlet_temp_c": N_("inlet temperature"),
        "pue": N_("PUE"), "facility_kw": N_("facility power"), "it_kw": N_("IT power"),
        "humidity_pct": N_("humidity"),
    },
    "sensor_status": {"normal": N_("normal"), "warning": N_("warning"), "critical": N_("critical"),
                      "stale": N_("stale")},
    "severity": {"critical": N_("critical"), "warning": N_("warning"), "info": N_("info")},
    "alert_state": {"firing": N_("firing"), "acknowledged": N_("acknowledged"), "resolved": N_("resolved"),
                    "silenced": N_("silenced")},
    "incident_state": {"open": N_("open"), "monitoring": N_("monitoring"), "closed": N_("closed")},
    "incident_entry": {"opened": N_("incident opened"), "alert_fired": N_("alert fired"),
                       "alert_acknowledged": N_("alert acknowledged"), "alert_resolved": N_("alert resolved"),
                       "complaint_opened": N_("complaint filed"), "complaint_closed": N_("complaint closed"),
                       "owner": N_("took ownership"), "state": N_("state changed"), "note": N_("note"),
                       "peak_reading": N_("peak reading")},
    "alert_action": {"fired": N_("fired"), "acknowledged": N_("acknowledged"), "resolved": N_("resolved"),
                     "note": N_("note"), "assigned": N_("assigned")},
    "source": {"iot": N_("sensor readings"), "datacenter": N_("data-centre samples"),
               "complaints": N_("complaint events")},
    "address": {"local": N_("local")},  # `ioc users` / `ioc displays` from the server's shell
    "outcome": {"ok": N_("ok"), "denied": N_("denied"), "failed": N_("failed")},
    "delivery": {"pending": N_("pending"), "delivered": N_("delivered"), "dead": N_("dead")},
    "reduce": {"mean": N_("mean"), "max": N_("max"), "min": N_("min"), "last": N_("last")},
    "function": {"pue": N_("PUE"), "open_past_sla": N_("open past SLA")},
    "rule_type": {"threshold": N_("threshold"), "rate": N_("rate"), "no_data": N_("no data"),
                  "aggregate": N_("aggregate"), "band": N_("band"), "anomaly": N_("anomaly"),
                  "forecast": N_("forecast")},
    "rule_subject": {"device": N_("device"), "district": N_("district"), "site": N_("site"), "stream": N_("stream"),
                     "city": N_("city")},
}  # fmt: skip


def term(vocabulary: str, value: object) -> str:
    """``value`` of ``vocabulary`` in the request's language, or ``value`` itself when it is not one of ours."""
    text = str(value) if value is not None else ""
    known = TERMS.get(vocabulary, {}).get(text)
    return _(known) if known else text
