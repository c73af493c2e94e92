-- External transactions (alternative billing, user choice billing, external offers): every
-- payment taken outside Play billing, stored before it is reported to Google, and its
-- refunds. One schema for SQLite and PostgreSQL, as 0001: TEXT and BIGINT only, money in
-- integer micros, times in milliseconds since the Unix epoch.

CREATE TABLE external_transactions (
    -- The externalTransactionId sent to Google, derived from payment_id.
    id                  TEXT PRIMARY KEY NOT NULL,
    -- The app's own payment id.
    payment_id          TEXT NOT NULL UNIQUE,
    account_id          TEXT NOT NULL,
    product_id          TEXT NOT NULL,
    -- one_time, subscription_first or subscription_renewal.
    kind                TEXT NOT NULL,
    -- RECURRING or PREPAID (subscriptions only).
    subscription_type   TEXT,
    -- Renewals: the id of the series' first payment.
    initial_id          TEXT,
    currency            TEXT NOT NULL,
    pre_tax_micros      BIGINT NOT NULL,
    tax_micros          BIGINT NOT NULL,
    -- When the payment was made (not when it was reported).
    transaction_time    BIGINT NOT NULL,
    region_code         TEXT NOT NULL,
    administrative_area TEXT,
    -- The externalTransactionToken; kept only until the first report succeeds.
    token               TEXT,
    test                BIGINT NOT NULL DEFAULT 0,
    -- externalOfferDetails / externalContentLinkDetails / transactionProgramCode (JSON object).
    program             TEXT,
    -- SHA-256 of what Google receives (token aside): the same id with other values is a conflict.
    fingerprint         TEXT NOT NULL,
    -- pending (not reported yet), reported, or failed (Google refused it for good).
    state               TEXT NOT NULL,
    -- Google's view after the report and every refund.
    google_state        TEXT,
    current_pre_tax_micros BIGINT,
    current_tax_micros  BIGINT,
    google_test         BIGINT,
    google_create_time  TEXT,
    reported_at         BIGINT,
    last_error          TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX external_transactions_unreported ON external_transactions (transaction_time) WHERE state = 'pending';
CREATE INDEX external_transactions_by_account ON external_transactions (account_id, transaction_time);

-- Refunds, one row per refund of one specific payment.
CREATE TABLE external_transaction_refunds (
    transaction_id   TEXT NOT NULL,
    -- The app's own refund id.
    refund_id        TEXT NOT NULL,
    -- The refundId sent to Google (partial refunds), derived from the two ids above.
    google_refund_id TEXT NOT NULL,
    -- 1: the remaining amount; 0: pre_tax_micros of it.
    full_refund      BIGINT NOT NULL,
    pre_tax_micros   BIGINT,
    refund_time      BIGINT NOT NULL,
    fingerprint      TEXT NOT NULL,
    -- pending, reported or failed.
    state            TEXT NOT NULL,
    reported_at      BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (transaction_id, refund_id)
);

-- Rate limits shared by every replica: the theoretical arrival time (GCRA) of the next call.
CREATE TABLE rate_limits (
    name TEXT PRIMARY KEY NOT NULL,
    tat  BIGINT NOT NULL
);
INSERT INTO rate_limits (name, tat) VALUES ('external_transaction_writes', 0);
