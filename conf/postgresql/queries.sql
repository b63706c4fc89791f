-- Example queries over flashd_results (schema.sql; flashd-export(8)) and over
-- the pools' tables flashd_pool and flashd_pool_binding (flashd.conf(5), "Pools").

-- Yield per station and plan per day (UTC days: SET TIME ZONE for local ones).
SELECT station, plan, date_trunc('day', ended) AS day,
       count(*) AS boards,
       count(*) FILTER (WHERE result = 'ok') AS ok,
       round(100.0 * count(*) FILTER (WHERE result = 'ok') / count(*), 1) AS yield_pct
  FROM flashd_results
 GROUP BY station, plan, day
 ORDER BY day DESC, station, plan;

-- Every flash of one board, by its serial number (newest first).
SELECT station, line, port, uid, result, failed_step, reason, started, ended
  FROM flashd_results
 WHERE serial = 'SN00001234'
 ORDER BY ended DESC;

-- Every flash of one board, by its SoC unique ID.
SELECT station, line, port, serial, result, ended
  FROM flashd_results
 WHERE uid = '0a1b2c3d4e5f6071'
 ORDER BY ended DESC;

-- A board by a MAC address its record lists (records that carry pool values
-- as "values": {"mac": [...]}; the GIN index on record answers @>).
SELECT station, line, serial, uid, result, ended
  FROM flashd_results
 WHERE record @> '{"values": {"mac": ["00:11:22:00:00:2a"]}}'
 ORDER BY ended DESC;

-- Failures by step over the last 7 days, most frequent first.
SELECT failed_step, count(*) AS failures, count(DISTINCT uid) AS boards,
       min(reason) AS a_reason
  FROM flashd_results
 WHERE result <> 'ok' AND ended > now() - interval '7 days'
 GROUP BY failed_step
 ORDER BY failures DESC;

-- How far each station's export is (its last journal line and record).
SELECT station, max(line) AS last_line, max(ended) AS last_board, max(exported) AS last_export
  FROM flashd_results
 GROUP BY station;

-- Which board has serial number SN00001234 (pool "serial"): its SoC UID, the
-- station that bound it and when; given back and given again shows two rows.
SELECT uid, station, block, allocated, released
  FROM flashd_pool_binding
 WHERE pool = 'serial' AND value = 'SN00001234'
 ORDER BY allocated;

-- Every value a board holds, by its SoC unique ID.
SELECT pool, block, value, station, allocated
  FROM flashd_pool_binding
 WHERE uid = '0a1b2c3d4e5f6071' AND released IS NULL
 ORDER BY pool;

-- Pool use per station and day: blocks bound, of them given back.
SELECT pool, station, date_trunc('day', allocated) AS day,
       count(*) AS bound, count(released) AS given_back
  FROM flashd_pool_binding
 GROUP BY pool, station, day
 ORDER BY day DESC, pool, station;

-- What is left in each pool: never given plus given back and not given again.
SELECT p.name, p.kind, p.blocks,
       count(b.id) AS bound,
       p.blocks - count(b.id) AS left
  FROM flashd_pool p
  LEFT JOIN flashd_pool_binding b ON b.pool = p.name AND b.released IS NULL
 GROUP BY p.name, p.kind, p.blocks
 ORDER BY p.name;
