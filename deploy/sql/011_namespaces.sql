-- Deployments that share one database (tests, benchmarks: each in its topic namespace,
-- ARR_TOPIC_PREFIX) must not act on one another's accounts when their clock ticks. Scoring
-- records the namespace an account came through and re-scores a day only its own ('' in
-- production, where there is one namespace).
ALTER TABLE scoring.accounts ADD COLUMN namespace text NOT NULL DEFAULT '';
DROP INDEX IF EXISTS scoring.accounts_open_by_partition;
CREATE INDEX accounts_open_by_partition
    ON scoring.accounts (namespace, kafka_partition, tenant, account_id) WHERE status = 'open';
