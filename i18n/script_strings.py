"""The strings ``assets/*.js`` show, by key: translated per page and handed to the browser as JSON
(``i18n.web``); ``assets/ioc_i18n.js`` looks them up and fills in ``{name}`` placeholders."""

from __future__ import annotations

from i18n.current import N_

SCRIPT_STRINGS: dict[str, str] = {
    "waiting_first_data": N_("Waiting for the first data…"),
    "no_answer": N_("No answer from the server for {age} — retrying"),
    "waiting_snapshot": N_("Waiting for the first snapshot…"),
    "no_data": N_("No data yet — feeds not started?"),
    "data_old": N_("Data {age} old — feeds stopped?"),
    "live_age": N_("Live · data {age} old"),
    "age_s": N_("{n} s"),
    "age_min": N_("{n} min"),
    "age_h": N_("{n} h"),
    "sensors_in_cluster": N_("{n} sensors"),
    "status_normal": N_("normal"),
    "status_warning": N_("warning"),
    "status_critical": N_("critical"),
    "status_stale": N_("stale"),
    "severity_critical": N_("critical"),
    "severity_warning": N_("warning"),
    "severity_info": N_("info"),
    "display_off": N_("Display switched off"),
    "display_revoked": N_("An administrator revoked this display's token."),
    "signed_out": N_("Signed out"),
    "session_ended": N_("Your session has ended."),
    "sign_in_again": N_("Sign in again"),
    "refused_role": N_("Refused: your role may not do this."),
}
