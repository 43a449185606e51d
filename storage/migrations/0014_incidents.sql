-- Incidents: alerts and complaints close in place and time, grouped (incidents/grouping.py), with a timeline of
-- what happened and what officers did. Written in the transaction of the alert change or complaint event they
-- follow (alerts/store.py), so an evaluator restarting re-reads nothing twice and loses nothing.

CREATE TABLE incidents (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state             text             NOT NULL CHECK (state IN ('open', 'monitoring', 'closed')),
    title             text             NOT NULL,
    owner             text,
    district          text             NOT NULL,
    lat               double precision,            -- the centre: where the member that opened it was
    lon               double precision,
    opened_at         timestamptz      NOT NULL,
    last_member_at    timestamptz      NOT NULL,   -- the time window counts from the latest member
    state_changed_at  timestamptz      NOT NULL,
    closed_at         timestamptz,
    members           integer          NOT NULL DEFAULT 0,
    open_alerts       integer          NOT NULL DEFAULT 0,  -- member alerts not yet resolved
    updated_at        timestamptz      NOT NULL DEFAULT now(),
    CHECK ((lat IS NULL) = (lon IS NULL))
);
CREATE INDEX incidents_active_idx ON incidents (last_member_at) WHERE state <> 'closed';
CREATE INDEX incidents_recent_idx ON incidents (opened_at DESC, id DESC);

-- Which alerts and service requests belong to which incident: each to one at most, so an alert or a request
-- seen again (a re-read stream entry, a second event of the same request) never joins twice.
CREATE TABLE incident_members (
    kind         text        NOT NULL CHECK (kind IN ('alert', 'complaint')),
    member_key   text        NOT NULL,     -- the alert's id, or the request_id
    incident_id  bigint      NOT NULL REFERENCES incidents (id),
    joined_at    timestamptz NOT NULL,
    PRIMARY KEY (kind, member_key)
);
CREATE INDEX incident_members_incident_idx ON incident_members (incident_id);

-- The timeline: members' events and officers' actions, oldest first. Never updated, never deleted.
CREATE TABLE incident_entries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id  bigint      NOT NULL REFERENCES incidents (id),
    at           timestamptz NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('opened', 'alert_fired', 'alert_acknowledged',
                     'alert_resolved', 'complaint_opened', 'complaint_closed', 'owner', 'state', 'note')),
    actor        text        NOT NULL,
    alert_id     bigint      REFERENCES alerts (id),
    request_id   text,
    note         text,
    details      jsonb       NOT NULL DEFAULT '{}',
    dedup_key    text        -- a complaint event's stream entry: read twice, recorded once
);
CREATE INDEX incident_entries_incident_idx ON incident_entries (incident_id, at, id);
CREATE UNIQUE INDEX incident_entries_once ON incident_entries (incident_id, dedup_key) WHERE dedup_key IS NOT NULL;
CREATE TRIGGER incident_entries_append_only BEFORE UPDATE OR DELETE ON incident_entries
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
CREATE TRIGGER incident_entries_no_truncate BEFORE TRUNCATE ON incident_entries
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
REVOKE UPDATE, DELETE, TRUNCATE ON incident_entries FROM PUBLIC;

-- The outbox carries incident messages too (incident.opened, incident.closed): each row is about exactly one
-- alert or one incident. The sender reads neither column; the console lists a message under what it is about.
ALTER TABLE alert_outbox ALTER COLUMN alert_id DROP NOT NULL;
ALTER TABLE alert_outbox ADD COLUMN incident_id bigint REFERENCES incidents (id);
ALTER TABLE alert_outbox ADD CONSTRAINT alert_outbox_one_subject CHECK (num_nonnulls(alert_id, incident_id) = 1);
CREATE INDEX alert_outbox_incident_idx ON alert_outbox (incident_id) WHERE incident_id IS NOT NULL;
