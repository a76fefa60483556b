-- Counted persons by category, one row per category in precedence order (zeros included),
-- then the total.
WITH counts AS (
    SELECT situation, COUNT(*) AS persons FROM persons WHERE counted GROUP BY situation
)
SELECT situation, persons FROM (
    SELECT s.rank AS ord, s.situation, COALESCE(c.persons, 0) AS persons
    FROM situations AS s
    LEFT JOIN counts AS c ON c.situation = s.situation
    WHERE s.homeless
    UNION ALL
    SELECT 100 AS ord, 'total' AS situation, COUNT(*) AS persons FROM persons WHERE counted
)
ORDER BY ord
