-- Counted persons per region and sex, exact, every combination (zeros included).
-- Margins: region_totals and by_sex (src/publish/disclosure/ suppresses them together).
WITH sexes AS (
    SELECT ord, sex FROM (VALUES (1, 'male'), (2, 'female'), (3, 'unknown')) AS t(ord, sex)
),
regions AS (
    SELECT DISTINCT region FROM municipalities
),
counts AS (
    SELECT m.region, p.sex, COUNT(*) AS persons
    FROM persons AS p
    JOIN municipalities AS m ON m.code = p.municipality
    WHERE p.counted
    GROUP BY m.region, p.sex
)
SELECT r.region, s.sex, COALESCE(c.persons, 0) AS persons
FROM regions AS r
CROSS JOIN sexes AS s
LEFT JOIN counts AS c ON c.region = r.region AND c.sex = s.sex
ORDER BY r.region, s.ord
