-- Per year: counted persons by linkage status (30_person_status.sql). new + again +
-- returning = the year's counted persons; persistent overlaps them. Zeros included.
-- Written per year as year=YYYY/tables/linkage.csv (status,persons).
WITH statuses AS (
    SELECT * FROM (VALUES (1, 'new'), (2, 'again'), (3, 'returning'), (4, 'persistent'))
        AS t(ord, status)
),
counts AS (
    SELECT year, status, COUNT(*) AS persons FROM person_status GROUP BY year, status
    UNION ALL
    SELECT year, 'persistent' AS status, COUNT(*) AS persons
    FROM person_status WHERE persistent GROUP BY year
)
SELECT y.year, s.status, COALESCE(c.persons, 0) AS persons
FROM warehouse_years AS y
CROSS JOIN statuses AS s
LEFT JOIN counts AS c ON c.year = y.year AND c.status = s.status
ORDER BY y.year, s.ord
