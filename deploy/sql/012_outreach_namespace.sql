-- Outreach records the topic namespace each account and step belongs to (ARR_TOPIC_PREFIX, or
-- "live" without one, as in the schedule's Redis keys), so that deployments sharing one
-- database (tests, benchmarks) never schedule one another's steps: the senders' safety sweep
-- (open steps due but missing from the Redis schedule) and `arrears cache rebuild` read only
-- their own namespace's.
ALTER TABLE outreach.accounts ADD COLUMN namespace text NOT NULL DEFAULT 'live';
ALTER TABLE outreach.steps ADD COLUMN namespace text NOT NULL DEFAULT 'live';
DROP INDEX outreach.steps_open;
CREATE INDEX steps_open ON outreach.steps (namespace, due_at)
    WHERE status IN ('planned', 'sending');
