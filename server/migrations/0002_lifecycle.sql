-- Purchase lifecycle (RTDN, voided purchases). One schema for SQLite and PostgreSQL, as
-- 0001: TEXT and BIGINT only, times in milliseconds since the Unix epoch.

-- Periodic work that one replica at a time does (claimed with a lease), with its cursor.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY NOT NULL,
    -- The work's high-water mark (the voided poller: the latest voidedTimeMillis seen).
    cursor      BIGINT,
    lease_owner TEXT,
    lease_until BIGINT,
    updated_at  BIGINT NOT NULL
);
INSERT INTO leases (name, cursor, lease_owner, lease_until, updated_at) VALUES ('voided_purchases', NULL, NULL, NULL, 0);

-- Received RTDN messages by Pub/Sub messageId: a redelivered message is stored once.
CREATE TABLE rtdn_messages (
    message_id    TEXT PRIMARY KEY NOT NULL,
    subscription  TEXT,
    publish_time  TEXT,
    -- The decoded DeveloperNotification (JSON).
    notification  TEXT NOT NULL,
    received_at   BIGINT NOT NULL,
    deliveries    BIGINT NOT NULL DEFAULT 1
);
