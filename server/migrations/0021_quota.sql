-- One GCRA row per Google quota bucket (see server/src/play/quota.rs); the external
-- transaction writes keep their row from 0003.
INSERT INTO rate_limits (name, tat) VALUES ('quota:one_time_purchases', 0);
INSERT INTO rate_limits (name, tat) VALUES ('quota:subscriptions', 0);
INSERT INTO rate_limits (name, tat) VALUES ('quota:subscription_updates', 0);
INSERT INTO rate_limits (name, tat) VALUES ('quota:orders', 0);
INSERT INTO rate_limits (name, tat) VALUES ('quota:external_transactions', 0);
INSERT INTO rate_limits (name, tat) VALUES ('quota:monetization', 0);
INSERT INTO rate_limits (name, tat) VALUES ('quota:voided_purchases', 0);
