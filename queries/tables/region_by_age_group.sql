-- Counted persons per region and age group, exact, every combination (zeros included), age
-- groups in the order of the format spec. Margins: region_totals and by_age_group.
WITH regions AS (
    SELECT DISTINCT region FROM municipalities
),
counts AS (
    SELECT m.region, p.age_group, COUNT(*) AS persons
    FROM persons AS p
    JOIN municipalities AS m ON m.code = p.municipality
    WHERE p.counted
    GROUP BY m.region, p.age_group
)
SELECT r.region, g.age_group, COALESCE(c.persons, 0) AS persons
FROM regions AS r
CROSS JOIN age_groups AS g
LEFT JOIN counts AS c ON c.region = r.region AND c.age_group = g.age_group
ORDER BY r.region, g.ord
