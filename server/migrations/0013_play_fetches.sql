-- Purchases read from Google for a token no stored purchase has yet (Play's notification
-- came before the app's verification, for an account not known here): the verification
-- that follows within limits.fetch_reuse_ms uses the recorded read instead of a second
-- get. Numbered after the issue (#13) so that other branches' 0003… never collide.
CREATE TABLE play_fetches (
    purchase_token TEXT PRIMARY KEY NOT NULL,
    -- The product id the read was made for (products.get is per product and token).
    item_id        TEXT NOT NULL,
    -- product (purchases.products.get) or subscription (purchases.subscriptionsv2.get).
    resource       TEXT NOT NULL,
    -- Google's resource, as JSON.
    body           TEXT NOT NULL,
    fetched_at     BIGINT NOT NULL
);
CREATE INDEX play_fetches_by_age ON play_fetches (fetched_at);
