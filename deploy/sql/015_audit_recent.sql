-- What the recorder wrote lately, per namespace: a simulated campaign (scripts/demo) waits for
-- every service to have claimed each event recorded since its last wait, and for the recorder
-- to stop growing, many times a day; without this index each wait read the whole store.
CREATE INDEX events_recent ON audit.events (namespace, recorded_at);
