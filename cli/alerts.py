"""`ioc alerts`: run the alert evaluator and webhook sender, or check and list the rules."""

from __future__ import annotations

import sys

import click

from settings import load_settings, mask_url_password


@click.group()
def alerts() -> None:
    """Alert rules, evaluation and webhook notifications (docs/ALERTS.md)."""


@alerts.command()
@click.option("--no-evaluate", is_flag=True, help="Only send webhooks (run several senders, one evaluator).")
@click.option("--no-send", is_flag=True, help="Only evaluate rules and record alerts.")
def run(no_evaluate: bool, no_send: bool) -> None:
    """Evaluate the rules on the city streams (group IOC_ALERT_CONSUMER_GROUP) and deliver the webhooks.

    Several processes may run: one evaluates at a time (a Redis lease), all of them send. Runs until SIGTERM
    or Ctrl-C.
    """
    from alerts.rules import RuleError
    from alerts.runner import run_alerts
    from alerts.webhooks import ReceiverRefused

    try:
        run_alerts(load_settings(), evaluate=not no_evaluate, send=not no_send)
    except (RuleError, ReceiverRefused) as bad:
        click.echo(f"error: {bad}", err=True)
        sys.exit(2)


def describe_grouping(g) -> str:
    """The [incidents] table in a line (``incidents.grouping.GroupingRules``)."""
    if not g.enabled:
        return "not grouped (no [incidents] table)"
    def listed(items: frozenset[str]) -> str:
        return ", ".join(sorted(items)) or "any"

    return (f"same district or within {g.distance_m:g} m, within {g.window_s / 60:g} min of the latest member; "
            f"opened by {listed(g.open_severities)} alerts of rules {listed(g.open_rules)}; joined by alerts of "
            f"rules {listed(g.join_rules)} and complaints of categories {listed(g.complaint_categories)}; closed "
            f"after {g.quiet_s / 60:g} min quiet; at most {g.max_members} members, {g.max_open} open")


@alerts.command()
def rules() -> None:
    """Check the rules file and the receivers; list the rules. Exit status 2 on any mistake."""
    import bootstrap
    from alerts.rules import RuleError
    from alerts.webhooks import ReceiverRefused, check_receivers

    settings = load_settings()
    try:
        loaded = bootstrap.alert_rules(settings)  # the file, and its no-data horizons against forgetting
        check_receivers(settings.alert_receivers, settings.alert_webhook_allowed_hosts)
    except (RuleError, ReceiverRefused) as bad:
        click.echo(f"error: {bad}", err=True)
        sys.exit(2)
    click.echo(f"{settings.alert_rules_file}: {len(loaded)} rules")
    for rule in loaded:
        what = rule.function or rule.metric or f"silent {rule.silent_for_s:g} s"
        watches = f"{rule.source}/{rule.subject}"
        kind = "band" if rule.band else rule.type
        click.echo(f"  {rule.id:<28} {kind:<10} {rule.severity:<9} {watches:<20} {what}")
    bands = bootstrap.status_bands(settings)
    click.echo(f"status bands (the maps' colours; each opens its band_ rule's alerts above): {len(bands.bands)}")
    for band in bands.bands.values():
        sign = "≥" if band.above else "≤"
        click.echo(f"  {band.name:<28} warning {sign} {band.warning:<8g} critical {sign} {band.critical:<8g} "
                   f"alert at {band.alert_level} for {band.hold_s:g} s")
    stale = ", ".join(f"{kind} {seconds / 60:g} min" for kind, seconds in sorted(bands.stale_after_s.items()))
    click.echo(f"stale after: {stale or 'no kind listed'}; any other kind {bands.default_stale_after_s / 60:g} min")
    click.echo(f"incidents: {describe_grouping(bootstrap.incident_grouping(settings))}")
    # Never a secret: only whether this process could sign for each receiver (the sender's environment needs it).
    signing = {r.name for r in settings.alert_receivers if r.secret or r.name in settings.alert_receiver_secrets}
    names = ", ".join(f"{r.name} ({mask_url_password(r.url)}; signing secret "
                      f"{'set' if r.name in signing else 'not set'} here)"
                      for r in settings.alert_receivers) or "none (alerts are recorded only)"  # fmt: skip
    click.echo(f"receivers: {names}")
