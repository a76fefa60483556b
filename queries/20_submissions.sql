-- Every accepted row with the person it belongs to (categories.md, deduplication).
-- The person key, in this order:
--   1. the row's own CPR number;
--   2. the CPR person that owns the row's alternative key (rule 3; also for rows with a
--      replacement number, rule 5);
--   3. the row's replacement number (rule 5);
--   4. the row's alternative key (rule 4);
--   5. the row itself: an unidentified row is its own person (rule 6).
-- All keys are HMAC pseudonyms computed at ingest; no CPR number reaches SQL. Staging holds
-- them as the HMAC's 32 bytes, so the rows are linked and sorted on half the bytes of the
-- hex; `submissions.parquet` holds the 64 lower-case hex characters of categories.md (the
-- engine writes a binary `person_key` as hex: src/count/engine.rs, `write_parquet`), and
-- hex sorts in the same order as the bytes.
--
-- `row_order` orders the rows by respondent_id, file name and line — the tie-break order of
-- categories.md, used by 30_persons.sql to find each person's deciding row — as one number:
-- (rank of the row's (respondent_id, file) pair, 15_unit_files.sql) × 2^32 + line. The
-- pairs are few (one or a few per file), so ranking them is cheap, unlike numbering a
-- million rows in one sorted sequence.
--
-- The rows are written by person key, then row_order: a person's rows are together, and the
-- per-person queries (30_persons.sql) can read one range of person keys at a time.
WITH linked AS (
    -- Rule 3: the CPR person owning the row's alternative key, for rows without CPR.
    SELECT r.*, o.cpr_key AS owner_key
    FROM alt_owners AS o
    RIGHT JOIN staging AS r ON r.cpr_key IS NULL AND r.alt_key = o.alt_key
)
SELECT
    s.source_file,
    s.source_line,
    CASE
        WHEN s.cpr_key IS NOT NULL THEN s.cpr_key
        WHEN s.owner_key IS NOT NULL THEN s.owner_key
        WHEN s.ecpr_key IS NOT NULL THEN s.ecpr_key
        WHEN s.alt_key IS NOT NULL THEN s.alt_key
        ELSE s.row_key
    END AS person_key,
    CASE
        WHEN s.cpr_key IS NOT NULL OR s.owner_key IS NOT NULL THEN 'cpr'
        WHEN s.ecpr_key IS NOT NULL THEN 'ecpr'
        WHEN s.alt_key IS NOT NULL THEN 'alt'
        ELSE 'unidentified'
    END AS id_kind,
    (s.cpr_key IS NULL AND s.owner_key IS NOT NULL) AS linked,
    CAST(u.unit_file AS BIGINT) * CAST(4294967296 AS BIGINT) + s.source_line AS row_order,
    s.count_year,
    s.respondent_id,
    s.respondent_type,
    s.birth_date,
    s.sex,
    s.age,
    s.municipality,
    s.home_municipality,
    s.situation,
    s.residence,
    s.duration,
    s.mental_illness,
    s.substance_abuse,
    s.income,
    s.children,
    s.support,
    s.housing_queue,
    s.action_plan,
    s.background,
    s.citizenship,
    s.physical_illness,
    s.mental_illness_treated,
    s.substance_treated,
    s.causes
-- (The small relation comes first in each join: it is the one held in memory.)
FROM unit_files AS u
JOIN linked AS s ON s.respondent_id = u.respondent_id AND s.source_file = u.source_file
ORDER BY person_key, row_order
