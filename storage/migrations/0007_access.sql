-- Who may do what (issue 9): accounts with roles, sign-in sessions, display tokens for wall screens, and the audit
-- trail. Tokens and session ids are stored only as SHA-256 digests: they are 256-bit random values, so a fast
-- digest is enough, and a copy of this database does not let anyone sign in. Passwords are argon2id hashes.

CREATE TABLE auth_users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username       text        NOT NULL UNIQUE CHECK (username = lower(username) AND length(username) BETWEEN 1 AND 128),
    full_name      text        NOT NULL DEFAULT '',
    role           text        NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    password_hash  text,       -- NULL: signs in only through the SSO proxy
    origin         text        NOT NULL DEFAULT 'local' CHECK (origin IN ('local', 'sso')),
    disabled_at    timestamptz,
    failed_signins integer     NOT NULL DEFAULT 0,
    locked_until   timestamptz,
    last_signin_at timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- A wall screen without a keyboard: its token is exchanged for a display session, bound to a playlist.
CREATE TABLE auth_displays (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    token_sha256  bytea       NOT NULL UNIQUE,
    playlist      text[]      NOT NULL,
    interval_s    integer     NOT NULL CHECK (interval_s BETWEEN 5 AND 3600),
    created_by    text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    revoked_by    text
);

-- One row per sign-in (a person) or token exchange (a display). The cookie holds the random session id; a row is
-- checked on every request of a person, so disabling a user or changing a role takes effect on the next one.
CREATE TABLE auth_sessions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_sha256  bytea       NOT NULL UNIQUE,
    user_id       bigint      REFERENCES auth_users (id),
    display_id    bigint      REFERENCES auth_displays (id),
    address       text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    ended_at      timestamptz,
    CHECK ((user_id IS NULL) <> (display_id IS NULL))
);
CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id) WHERE ended_at IS NULL;
CREATE INDEX auth_sessions_expiry_idx ON auth_sessions (expires_at);

-- The audit trail: who did what, when, from which address, and whether it was allowed. Append-only: the
-- triggers below refuse UPDATE, DELETE and TRUNCATE for every role the application connects as.
CREATE TABLE audit_log (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text        NOT NULL,
    role      text        NOT NULL DEFAULT '',
    action    text        NOT NULL,
    target    text        NOT NULL DEFAULT '',
    outcome   text        NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
    address   text        NOT NULL DEFAULT '',
    details   jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, at DESC);

CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
-- An alert's own trail was append-only by convention; now by the same rule.
CREATE TRIGGER alert_events_append_only BEFORE UPDATE OR DELETE ON alert_events
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_change();
CREATE TRIGGER alert_events_no_truncate BEFORE TRUNCATE ON alert_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, alert_events FROM PUBLIC;
