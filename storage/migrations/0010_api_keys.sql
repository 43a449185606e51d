-- The open-data API (issue 13): keys issued by admins, each with the resources (scopes) it may read. The token is
-- stored only as its SHA-256 digest, as session ids and display tokens are (0007): it is 256 random bits, so a
-- fast digest is enough, and a copy of this table lets nobody call the API.

CREATE TABLE api_keys (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                 text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    token_sha256         bytea       NOT NULL UNIQUE,
    scopes               text[]      NOT NULL CHECK (cardinality(scopes) > 0),
    requests_per_minute  integer     CHECK (requests_per_minute BETWEEN 1 AND 100000),  -- NULL: the setting's
    created_by           text        NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    last_used_at         timestamptz,
    revoked_at           timestamptz,
    revoked_by           text
);
