-- Counted persons per municipality, exact, all 98 municipalities (zeros included).
-- tables/published/municipal_totals.csv is this table with small numbers suppressed.
WITH counts AS (
    SELECT municipality, COUNT(*) AS persons FROM persons WHERE counted GROUP BY municipality
)
SELECT m.code AS municipality, m.name AS municipality_name, COALESCE(c.persons, 0) AS persons
FROM municipalities AS m
LEFT JOIN counts AS c ON c.municipality = m.code
ORDER BY m.code
