-- Migrants without permanent residence (deciding row `residence = no_permanent`) in a
-- homelessness situation: not in the national count, reported here as the published counts
-- do. A migrant under 18 is reported here, not in under_18.
WITH migrants AS (
    SELECT p.situation
    FROM persons AS p
    JOIN situations AS s ON s.situation = p.situation
    WHERE s.homeless AND p.residence = 'no_permanent'
),
counts AS (
    SELECT situation, COUNT(*) AS persons FROM migrants GROUP BY situation
)
SELECT situation, persons FROM (
    SELECT s.rank AS ord, s.situation, COALESCE(c.persons, 0) AS persons
    FROM situations AS s
    LEFT JOIN counts AS c ON c.situation = s.situation
    WHERE s.homeless
    UNION ALL
    SELECT 100 AS ord, 'total' AS situation, COUNT(*) AS persons FROM migrants
)
ORDER BY ord
