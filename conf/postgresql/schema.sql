-- flashd-export(8): the results of flashd stations, one row per journal record;
-- flashd's pools shared by the stations of a line (flashd.conf(5), "Pools").
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


-- Pools (flashd.conf(5), "Pools"; src/daemon/pool_store_pg.c): who holds which
-- block of a pool. A block is `count` consecutive values of the pool; the
-- values themselves come from the pool's definition in flashd.conf, which
-- every station sharing the pool must agree on (fingerprint).
-- One row per pool, made by the first station that uses it. An allocation
-- locks this row (SELECT ... FOR UPDATE), so the allocations of a pool follow
-- one another: the uid's live binding, else the lowest returned block, else
-- next_block (then advanced). Keep synchronous_commit on (the default) for
-- this database: off, a server crash may forget an allocation it confirmed and
-- give that block to another board.
CREATE TABLE IF NOT EXISTS flashd_pool (
	name text PRIMARY KEY,         -- [pool NAME] in flashd.conf
	kind text NOT NULL,            -- serial, mac, list
	fingerprint text NOT NULL,     -- kind, format, range, count (list: SHA-256 of its values)
	blocks bigint NOT NULL CHECK (blocks >= 0),  -- blocks in the pool (only ever grows)
	next_block bigint NOT NULL DEFAULT 0,        -- the lowest block never given
	created timestamptz NOT NULL DEFAULT now(),
	CHECK (next_block >= 0 AND next_block <= blocks)
);

-- One row per binding of a block to a board, kept forever: a returned block
-- (released set) is given again with a new row, and its released row is then
-- marked given_again. At most one live binding per board and per block of a
-- pool, and one returned row not given again per block (the partial unique
-- indexes). Each index is the only one a statement of pool_store_pg.c can use
-- (live_block leads with block): no statement depends on statistics to avoid
-- a scan of the whole pool, even before the first ANALYZE.
CREATE TABLE IF NOT EXISTS flashd_pool_binding (
	id bigserial PRIMARY KEY,
	pool text NOT NULL REFERENCES flashd_pool (name),
	block bigint NOT NULL CHECK (block >= 0),
	value text NOT NULL,           -- the block's first value (${pool:NAME}), e.g. SN00001234
	uid text NOT NULL,             -- SoC unique ID, lowercase hex
	station text,                  -- the station that bound it
	allocated timestamptz NOT NULL DEFAULT now(),
	released timestamptz,          -- given back (a board that failed before using it)
	given_again boolean NOT NULL DEFAULT false, -- released, and bound again since
	CHECK (released IS NULL OR released >= allocated),
	CHECK (released IS NOT NULL OR NOT given_again)
);
CREATE UNIQUE INDEX IF NOT EXISTS flashd_pool_binding_live_uid
	ON flashd_pool_binding (pool, uid) WHERE released IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS flashd_pool_binding_live_block
	ON flashd_pool_binding (block, pool) WHERE released IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS flashd_pool_binding_returned
	ON flashd_pool_binding (pool, block) WHERE released IS NOT NULL AND NOT given_again;
CREATE INDEX IF NOT EXISTS flashd_pool_binding_value ON flashd_pool_binding (value);
CREATE INDEX IF NOT EXISTS flashd_pool_binding_uid ON flashd_pool_binding (uid);

COMMIT;
