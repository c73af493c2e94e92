-- The operator console (`/console/`): its sign-in sessions, and the indexes its pages need
-- to answer within 200 ms at a million purchases and a million report rows. One schema for
-- SQLite and PostgreSQL, as 0001: TEXT and BIGINT only, times in milliseconds since the
-- Unix epoch. Numbered after the issue (#22).

-- A signed-in operator: a server API key exchanged for a session cookie. Only digests are
-- stored: the cookie's value and the key it was signed in with (a session ends when its
-- key leaves `admin.api_keys`).
CREATE TABLE console_sessions (
    -- SHA-256 (hex) of the cookie's value.
    id_digest   TEXT PRIMARY KEY NOT NULL,
    -- SHA-256 (hex) of the server API key that signed in.
    key_digest  TEXT NOT NULL,
    -- The anti-forgery token every state-changing request repeats in `X-CSRF-Token`.
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);

-- Per report file, its rows summed by month, currency and transaction type: the Overview's
-- revenue and refunds read this instead of every report row. Filled from `report_rows` for
-- each file whose generation it does not hold yet (a re-imported file is summed again).
CREATE TABLE console_report_totals (
    file_name        TEXT NOT NULL,
    generation       TEXT NOT NULL,
    kind             TEXT NOT NULL,
    month            TEXT NOT NULL,
    currency         TEXT NOT NULL,
    transaction_type TEXT NOT NULL,
    row_count        BIGINT NOT NULL,
    amount_micros    BIGINT NOT NULL,
    PRIMARY KEY (file_name, kind, month, currency, transaction_type)
);

-- Overview: entitlements by state (an index-only count) and grants per day.
CREATE INDEX purchases_by_state ON purchases (state, test);
CREATE INDEX purchases_by_granted_at ON purchases (granted_at, test);
-- Lookup by order id, and the purchase a replacement points to.
CREATE INDEX purchases_by_order_id ON purchases (order_id);
CREATE INDEX purchases_by_linked_token ON purchases (linked_purchase_token);
-- Health: the last notification received.
CREATE INDEX rtdn_messages_by_received_at ON rtdn_messages (received_at);
-- Health: failed jobs (pending ones have `outbox_due`).
CREATE INDEX outbox_failed ON outbox (updated_at) WHERE status = 'failed';
