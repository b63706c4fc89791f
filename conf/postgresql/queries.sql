-- Example queries over flashd_results (schema.sql; flashd-export(8)).

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
