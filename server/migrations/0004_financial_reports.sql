-- Play's financial reports imported from Cloud Storage (`pwa-billing reports import`). One
-- schema for SQLite and PostgreSQL, as 0001: TEXT and BIGINT only, times in milliseconds
-- since the Unix epoch, money in micros of its currency.

-- Each report object imported, at the generation imported. A re-run skips an object whose
-- generation and md5Hash are unchanged; a new generation replaces the object's rows in the
-- same transaction that records it here.
CREATE TABLE report_files (
    name         TEXT PRIMARY KEY NOT NULL,
    -- sales or earnings
    kind         TEXT NOT NULL,
    -- YYYY-MM, from the object name
    month        TEXT NOT NULL,
    generation   TEXT NOT NULL,
    md5_hash     TEXT NOT NULL,
    size         BIGINT NOT NULL,
    row_count    BIGINT NOT NULL,
    imported_at  BIGINT NOT NULL
);

-- One row of a report's CSV (line = its 1-based data row number in the file).
CREATE TABLE report_rows (
    file_name               TEXT NOT NULL,
    line                    BIGINT NOT NULL,
    kind                    TEXT NOT NULL,
    month                   TEXT NOT NULL,
    -- As written (renewals GPA.….N) and without the renewal suffix.
    order_id                TEXT NOT NULL,
    base_order_id           TEXT NOT NULL,
    -- charge, refund, google_fee, google_fee_refund, tax, tax_refund, or the report's own
    -- words for anything else.
    transaction_type        TEXT NOT NULL,
    -- Full or Partial (earnings refunds).
    refund_type             TEXT,
    occurred_at             BIGINT,
    package_name            TEXT,
    product_id              TEXT NOT NULL,
    product_type            TEXT,
    country                 TEXT,
    currency                TEXT NOT NULL,
    amount_micros           BIGINT NOT NULL,
    tax_micros              BIGINT,
    merchant_currency       TEXT,
    merchant_amount_micros  BIGINT,
    PRIMARY KEY (file_name, line)
);
CREATE INDEX report_rows_by_order ON report_rows (base_order_id);
CREATE INDEX report_rows_by_month ON report_rows (month, kind);
