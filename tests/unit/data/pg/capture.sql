-- How tests/unit/data/pg/*.hex were captured (PostgreSQL 15.18, wal_level=logical).
-- Run with psql against a throwaway server; see capture notes in pgoutput_v1_*.hex headers.
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE items (
  id bigint PRIMARY KEY,
  name text,
  qty integer,
  price numeric(12,2),
  ok boolean,
  created timestamptz,
  day date,
  tags text[],
  doc jsonb,
  uid uuid,
  small smallint,
  ratio double precision,
  blob bytea,
  feeling mood,
  code varchar(10),
  big text
);
CREATE TABLE events (id int, v text);
ALTER TABLE events REPLICA IDENTITY FULL;
CREATE PUBLICATION pub FOR TABLE items, events;
SELECT 'slot' FROM pg_create_logical_replication_slot('slot', 'pgoutput');

-- tx 1: inserts, including NULLs, empty strings and a TOASTed value
BEGIN;
INSERT INTO items VALUES
  (1, 'apple', 10, 1.50, true, '2024-01-02 03:04:05.123456+00', '2024-01-02', '{a,"b c"}',
   '{"k": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', -7, 0.25, '\xdeadbeef', 'happy', 'abc', 'small'),
  (2, '', NULL, NULL, false, NULL, NULL, '{}', 'null', NULL, NULL, NULL, '\x', NULL, '', NULL),
  (3, 'toasty', 3, 99.99, NULL, '1999-12-31 23:59:59+00', '1970-01-01', NULL, NULL, NULL, 32767, -1e300, NULL, 'sad', NULL,
   (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g)),
  (4, 'doomed', 4, 4.00, true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'ok', NULL, NULL);
INSERT INTO events VALUES (1, 'one'), (2, 'two');
COMMIT;

COPY items TO '/tmp/pgcap/items.copy' (FORMAT binary);

-- tx 2: update without key change (no old tuple), with unchanged TOAST ('u')
UPDATE items SET qty = 30 WHERE id = 3;
-- tx 3: key change -> old key tuple 'K'
UPDATE items SET id = 20 WHERE id = 2;
-- tx 4: REPLICA IDENTITY FULL -> old tuple 'O'
UPDATE events SET v = 'uno' WHERE id = 1;
-- tx 5: deletes: 'K' and 'O'
BEGIN;
DELETE FROM items WHERE id = 4;
DELETE FROM events WHERE id = 2;
COMMIT;
-- tx 6: a transactional logical message, and a non-transactional one
BEGIN;
SELECT 'msg' FROM pg_logical_emit_message(true, 'pg2ch', 'hello');
COMMIT;
SELECT 'msg' FROM pg_logical_emit_message(false, 'pg2ch', 'outside');
-- tx 7: truncate two tables with options
TRUNCATE items, events RESTART IDENTITY CASCADE;
-- tx 8: a transaction replayed from another origin -> 'O' Origin message
SELECT 'origin' FROM pg_replication_origin_create('upstream');
SELECT 'session' FROM pg_replication_origin_session_setup('upstream');
BEGIN;
SELECT 'xact' FROM pg_replication_origin_xact_setup('0/ABCDEF', '2024-05-06 07:08:09+00');
INSERT INTO events VALUES (3, 'from upstream');
COMMIT;
SELECT 'reset' FROM pg_replication_origin_session_reset();
