-- Events for the app's own backend (issue #21): one row per change, written in the
-- transaction that makes the change, then delivered as signed webhooks and read as a feed.
-- One schema for SQLite and PostgreSQL, as 0001: TEXT and BIGINT only, times in ms.
CREATE TABLE events (
    id          TEXT PRIMARY KEY NOT NULL,
    type        TEXT NOT NULL,
    account_id  TEXT,
    -- What the event is about (an entitlement id, `external_transaction:<id>`, …) and its
    -- sequence number there (1, 2, …): a receiver drops an event older than one it has.
    subject     TEXT,
    sequence    BIGINT,
    test        BIGINT NOT NULL DEFAULT 0,
    -- The whole body delivered: {"id","type","timestamp","data"} (JSON).
    payload     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    -- The feed's order (GET /v1/events?after=), given when the event is published to the
    -- endpoints, by one publisher at a time, in commit order: a reader past position N never
    -- misses an event that commits later.
    position    BIGINT UNIQUE
);
CREATE UNIQUE INDEX events_by_subject ON events (subject, sequence);
CREATE INDEX events_unpublished ON events (created_at) WHERE position IS NULL;
CREATE INDEX events_by_account ON events (account_id, position);

-- One delivery of one event to one configured endpoint, retried until delivered or failed.
CREATE TABLE webhook_deliveries (
    event_id     TEXT NOT NULL,
    endpoint     TEXT NOT NULL,
    -- pending, delivered or failed (gave up after webhooks.max_age_secs).
    status       TEXT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    run_at       BIGINT NOT NULL,
    lease_owner  TEXT,
    lease_until  BIGINT,
    -- The last attempt's HTTP status (none: no answer) and error.
    last_status  BIGINT,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    delivered_at BIGINT,
    PRIMARY KEY (event_id, endpoint)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint, run_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_status ON webhook_deliveries (status, created_at);

-- The row PostgreSQL publishers lock, one at a time (SQLite's write lock does it there).
INSERT INTO leases (name, cursor, lease_owner, lease_until, updated_at) VALUES ('webhook_publish', NULL, NULL, NULL, 0);
