-- flashd-export(8): the results of flashd stations, one row per journal record.
-- Idempotent: run it again (psql -f schema.sql, or flashd-export --init-schema)
-- on every upgrade; it creates what is missing and records the schema version.
BEGIN;

CREATE TABLE IF NOT EXISTS flashd_schema (
	version integer PRIMARY KEY,
	applied timestamptz NOT NULL DEFAULT now()
);
INSERT INTO flashd_schema (version) VALUES (1) ON CONFLICT DO NOTHING;

-- (station, line) is the record's identity: a station's journal line never
-- holds another record, so a second insert of the same record does nothing.
-- flashd-export reads max(line) of its station as its cursor.
CREATE TABLE IF NOT EXISTS flashd_results (
	station text NOT NULL,         -- flashd-export --station (default: machine id)
	line bigint NOT NULL CHECK (line > 0), -- the record's line in the station's journal
	port text,                     -- USB port path, e.g. 1-1.4
	slot text,                     -- the port's slot name, if the station names them
	uid text,                      -- SoC unique ID (hex), if the boot ROM gave it
	serial text,
	plan text,                     -- the plan file
	plan_sha256 text,
	result text NOT NULL,          -- ok, failed, boot-loop, aborted
	failed_step text,
	reason text,
	start_ms bigint,               -- unix ms, as in the journal
	end_ms bigint,
	started timestamptz GENERATED ALWAYS AS (to_timestamp(start_ms / 1000.0)) STORED,
	ended timestamptz GENERATED ALWAYS AS (to_timestamp(end_ms / 1000.0)) STORED,
	bytes bigint,
	record jsonb NOT NULL,         -- the whole journal record (flashd-control(7), RECORD)
	exported timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (station, line)
);
CREATE INDEX IF NOT EXISTS flashd_results_ended ON flashd_results (ended);
CREATE INDEX IF NOT EXISTS flashd_results_serial ON flashd_results (serial) WHERE serial IS NOT NULL;
CREATE INDEX IF NOT EXISTS flashd_results_uid ON flashd_results (uid) WHERE uid IS NOT NULL;
CREATE INDEX IF NOT EXISTS flashd_results_failed ON flashd_results (failed_step) WHERE result <> 'ok';
CREATE INDEX IF NOT EXISTS flashd_results_record ON flashd_results USING gin (record jsonb_path_ops);

COMMIT;
