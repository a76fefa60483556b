-- How much of the count rests on weaker identification (issue #13): the number of counted
-- persons under three linking assumptions.
--   cpr_only: only CPR numbers link rows. Every row of a counted person that does not carry
--     the person's own CPR number (linked by the alternative key, a replacement number, an
--     alternative key alone, or unidentified) is then a person of its own. An upper bound:
--     those rows are assumed to be counted as the person they are linked to today is.
--   today: the rules of categories.md (CPR, then alternative key, replacement number,
--     unidentified rows each a person).
--   unidentified_already_counted: every counted person made of unidentified rows is
--     someone already counted under another key. A lower bound.
-- (The rows of counted persons by kind: 36_counted_rows_by_kind.sql.)
WITH today AS (
    SELECT COUNT(*) AS persons FROM persons WHERE counted
),
scenarios AS (
    SELECT 1 AS ord, 'cpr_only' AS scenario,
        (SELECT COUNT(*) FROM persons WHERE counted AND id_kind = 'cpr')
        + (SELECT COALESCE(SUM(row_count), 0) FROM counted_rows_by_kind
           WHERE NOT (id_kind = 'cpr' AND NOT linked))
        AS persons
    UNION ALL
    SELECT 2, 'today', (SELECT persons FROM today)
    UNION ALL
    SELECT 3, 'unidentified_already_counted',
        (SELECT COUNT(*) FROM persons WHERE counted AND id_kind <> 'unidentified')
)
SELECT
    s.scenario,
    s.persons,
    s.persons - t.persons AS difference,
    CASE WHEN t.persons = 0 THEN 0.0
        ELSE round(100.0 * (s.persons - t.persons) / t.persons, 1) END AS difference_percent
FROM scenarios AS s
CROSS JOIN today AS t
ORDER BY s.ord
