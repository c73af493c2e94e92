-- What the operator console's pages read at a million purchases, a million report rows and a
-- hundred thousand notifications, so that each answers within 200 ms (docs/console.md). One
-- schema for SQLite and PostgreSQL, as 0001: TEXT and BIGINT only, times in milliseconds
-- since the Unix epoch.

-- Lookup: the purchase token a notification names, written with the notification (the
-- rows stored before this migration are filled in at start, `rtdn_messages::fill_tokens`;
-- '' for a notification that names none, such as a test notification).
ALTER TABLE rtdn_messages ADD COLUMN purchase_token TEXT;
CREATE INDEX rtdn_messages_by_token ON rtdn_messages (purchase_token, received_at);
CREATE INDEX rtdn_messages_without_token ON rtdn_messages (message_id) WHERE purchase_token IS NULL;

-- Lookup: the purchases that replaced one. Few purchases replace another: indexed are those
-- that do, and the planners' statistics (ANALYZE) then show a lookup by token finding
-- almost nothing, where 0022's index of every row (nearly all NULL) made SQLite scan the
-- table instead.
DROP INDEX purchases_by_linked_token;
CREATE INDEX purchases_by_linked_token ON purchases (linked_purchase_token)
    WHERE linked_purchase_token IS NOT NULL;

-- Overview: purchases counted by state, test flag and UTC day of the grant (-1: not
-- granted). Every change of a purchase's row that moves it from one such key to another
-- appends a -1 and a +1 to `purchase_count_changes` in the same transaction (an insert,
-- never an update: concurrent grants never wait for one another's counter row); the
-- Overview moves the appended changes into `purchase_counts` and reads the sum of both.
CREATE TABLE purchase_counts (
    state       TEXT NOT NULL,
    test        BIGINT NOT NULL,
    granted_day BIGINT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (state, test, granted_day)
);
CREATE INDEX purchase_counts_by_day ON purchase_counts (granted_day);
CREATE TABLE purchase_count_changes (
    state       TEXT NOT NULL,
    test        BIGINT NOT NULL,
    granted_day BIGINT NOT NULL,
    delta       BIGINT NOT NULL
);
INSERT INTO purchase_counts (state, test, granted_day, n)
SELECT state, test, COALESCE(granted_at / 86400000, -1), COUNT(*) FROM purchases
GROUP BY state, test, COALESCE(granted_at / 86400000, -1);

-- External transactions and Health: the failed payments (pending ones have
-- `external_transactions_unreported`), the payments reported after the 24-hour deadline,
-- and the refunds not reported yet or refused.
CREATE INDEX external_transactions_failed ON external_transactions (transaction_time) WHERE state = 'failed';
CREATE INDEX external_transactions_reported_late ON external_transactions (transaction_time)
    WHERE state = 'reported' AND reported_at - transaction_time > 86400000;
CREATE INDEX external_transaction_refunds_pending ON external_transaction_refunds (refund_time) WHERE state = 'pending';
CREATE INDEX external_transaction_refunds_failed ON external_transaction_refunds (refund_time) WHERE state = 'failed';

-- Reconciliation: each month's reconciliation as last computed, with the report files it
-- was computed from (`inputs`: SHA-256 of their names and generations); the page reads it instead of
-- reading every granted purchase per request, and computes it again when the files change
-- or it is older than `console::pages::RECONCILIATION_FRESH_MS`.
CREATE TABLE console_reconciliations (
    month       TEXT PRIMARY KEY NOT NULL,
    inputs      TEXT NOT NULL,
    computed_at BIGINT NOT NULL,
    result      TEXT NOT NULL
);
