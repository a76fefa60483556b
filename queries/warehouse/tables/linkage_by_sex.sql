-- Per year and sex: counted persons by linkage status. Zeros included.
WITH sexes AS (
    SELECT * FROM (VALUES (1, 'male'), (2, 'female'), (3, 'unknown')) AS t(ord, sex)
),
counts AS (
    SELECT
        year,
        sex,
        SUM(CASE WHEN status = 'new' THEN 1 ELSE 0 END) AS new,
        SUM(CASE WHEN status = 'again' THEN 1 ELSE 0 END) AS again,
        SUM(CASE WHEN status = 'returning' THEN 1 ELSE 0 END) AS returning,
        SUM(CASE WHEN persistent THEN 1 ELSE 0 END) AS persistent,
        COUNT(*) AS persons
    FROM person_status
    GROUP BY year, sex
)
SELECT
    y.year,
    s.sex,
    COALESCE(c.new, 0) AS new,
    COALESCE(c.again, 0) AS again,
    COALESCE(c.returning, 0) AS returning,
    COALESCE(c.persistent, 0) AS persistent,
    COALESCE(c.persons, 0) AS persons
FROM warehouse_years AS y
CROSS JOIN sexes AS s
LEFT JOIN counts AS c ON c.year = y.year AND c.sex = s.sex
ORDER BY y.year, s.ord
