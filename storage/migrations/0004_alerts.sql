-- Alerts: one row per alert (a rule firing about a subject), its audit trail, silences, and the webhook outbox.
-- State changes and their outbox rows are written in one transaction (alerts/store.py), so a notification is
-- sent if and only if the change it announces was committed.

CREATE TABLE alerts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id          text             NOT NULL,
    subject          text             NOT NULL,
    severity         text             NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    status           text             NOT NULL CHECK (status IN ('firing', 'acknowledged', 'resolved')),
    summary          text             NOT NULL,
    labels           jsonb            NOT NULL DEFAULT '{}',
    value            double precision,
    threshold        double precision,
    silenced         boolean          NOT NULL DEFAULT false,  -- a silence matched when it fired: never notified
    assignee         text,
    fired_at         timestamptz      NOT NULL,
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    resolved_at      timestamptz,
    resolved_by      text,
    updated_at       timestamptz      NOT NULL DEFAULT now()
);
-- Deduplication: at most one open (not resolved) alert per rule and subject.
CREATE UNIQUE INDEX alerts_one_open ON alerts (rule_id, subject) WHERE status <> 'resolved';
CREATE INDEX alerts_recent_idx ON alerts (fired_at DESC);

-- Every action on an alert, by whom and when: the start of the audit trail. Never updated, never deleted.
CREATE TABLE alert_events (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id  bigint      NOT NULL REFERENCES alerts (id),
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text        NOT NULL,
    action    text        NOT NULL CHECK (action IN ('fired', 'acknowledged', 'resolved', 'note', 'assigned')),
    note      text,
    details   jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, id);

-- A silence mutes the notifications of alerts whose labels match all its matchers, from starts_at to ends_at.
CREATE TABLE alert_silences (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    matchers    jsonb       NOT NULL CHECK (jsonb_typeof(matchers) = 'object' AND matchers <> '{}'),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    created_by  text        NOT NULL,
    comment     text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX alert_silences_active_idx ON alert_silences (ends_at);

-- The transactional outbox: one message per (state change, receiver). `message_id` is the webhook-id, the
-- same on every retry; `body` is the exact JSON sent, fixed at insert so every retry sends the same bytes.
CREATE TABLE alert_outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id       text        NOT NULL UNIQUE,
    alert_id         bigint      NOT NULL REFERENCES alerts (id),
    receiver         text        NOT NULL,
    event_type       text        NOT NULL,
    body             text        NOT NULL,
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         integer     NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    last_status      integer,
    last_error       text
);
CREATE INDEX alert_outbox_due_idx ON alert_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX alert_outbox_dead_idx ON alert_outbox (created_at DESC) WHERE status = 'dead';
