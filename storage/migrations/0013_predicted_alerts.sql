-- Predicted alerts (issue 14): a forecast rule (alerts/forecast_judge.py) fires before its level is reached, and
-- says when it expects it. `predicted` marks such an alert; `forecast_at` is when the forecast was made (the newest
-- step it was fitted to), `expected_at` when the level is expected, `expected_earliest` … `expected_latest` the
-- interval at the rule's confidence. The evaluator rewrites them while the alert is open when a later forecast
-- moves (alerts/store.py: AlertStore.revise; comment only, changed after 0013 shipped: no schema change); the
-- "fired" alert_events row keeps the forecast the alert fired with, for the audit. The overview, wall and map
-- draw the lead time `expected_at - now()` from them.
ALTER TABLE alerts
    ADD COLUMN predicted          boolean     NOT NULL DEFAULT false,
    ADD COLUMN forecast_at        timestamptz,
    ADD COLUMN expected_at        timestamptz,
    ADD COLUMN expected_earliest  timestamptz,
    ADD COLUMN expected_latest    timestamptz,
    ADD CONSTRAINT alerts_prediction_whole CHECK (
        (predicted AND forecast_at IS NOT NULL AND expected_at IS NOT NULL AND expected_earliest IS NOT NULL)
        OR (NOT predicted AND forecast_at IS NULL AND expected_at IS NULL AND expected_earliest IS NULL
            AND expected_latest IS NULL));
-- The open predicted alerts, soonest first: what the overview and the wall list.
CREATE INDEX alerts_open_predicted_idx ON alerts (expected_at) WHERE predicted AND status <> 'resolved';
