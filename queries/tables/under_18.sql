-- Persons under 18 on the count date in a homelessness situation (not migrants): not in
-- the count (the published age bands start at 18), reported here. Children staying with a
-- homeless adult are in the adult's `children` field instead.
WITH children AS (
    SELECT p.situation
    FROM persons AS p
    JOIN situations AS s ON s.situation = p.situation
    WHERE s.homeless AND p.residence <> 'no_permanent' AND p.age < 18
),
counts AS (
    SELECT situation, COUNT(*) AS persons FROM children GROUP BY situation
)
SELECT situation, persons FROM (
    SELECT s.rank AS ord, s.situation, COALESCE(c.persons, 0) AS persons
    FROM situations AS s
    LEFT JOIN counts AS c ON c.situation = s.situation
    WHERE s.homeless
    UNION ALL
    SELECT 100 AS ord, 'total' AS situation, COUNT(*) AS persons FROM children
)
ORDER BY ord
