-- One schema for SQLite and PostgreSQL: TEXT and BIGINT only (booleans are 0/1,
-- times are milliseconds since the Unix epoch).

-- Every purchase token ever presented, bound to the first account that presented it.
CREATE TABLE purchases (
    purchase_token        TEXT PRIMARY KEY NOT NULL,
    id                    TEXT NOT NULL UNIQUE,
    account_id            TEXT NOT NULL,
    item_id               TEXT NOT NULL,
    kind                  TEXT NOT NULL,
    -- pending (bound, nothing granted) or an entitlement state: active, grace_period,
    -- on_hold, paused, canceled, expired, revoked, refunded, replaced, consumed.
    state                 TEXT NOT NULL,
    quantity              BIGINT NOT NULL DEFAULT 1,
    expires_at            BIGINT,
    test                  BIGINT NOT NULL DEFAULT 0,
    acknowledged          BIGINT NOT NULL DEFAULT 0,
    order_id              TEXT,
    linked_purchase_token TEXT,
    purchased_at          BIGINT,
    granted_at            BIGINT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX purchases_by_account ON purchases (account_id, created_at);
CREATE INDEX purchases_unacknowledged ON purchases (granted_at) WHERE acknowledged = 0;

-- Durable jobs, claimed with leases so that several replicas never run one job at once
-- and a crash loses nothing.
CREATE TABLE outbox (
    id          TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    -- At most one job per key, ever (e.g. one acknowledgement per purchase token).
    dedupe_key  TEXT UNIQUE,
    -- pending, done or failed (gave up on a permanent error).
    status      TEXT NOT NULL DEFAULT 'pending',
    attempts    BIGINT NOT NULL DEFAULT 0,
    run_at      BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error  TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (run_at) WHERE status = 'pending';
