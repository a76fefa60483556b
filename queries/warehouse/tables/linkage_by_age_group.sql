-- Per year and age group (on this year's count date): counted persons by linkage status.
-- Every age group, zeros included.
WITH counts AS (
    SELECT
        year,
        age_group,
        SUM(CASE WHEN status = 'new' THEN 1 ELSE 0 END) AS new,
        SUM(CASE WHEN status = 'again' THEN 1 ELSE 0 END) AS again,
        SUM(CASE WHEN status = 'returning' THEN 1 ELSE 0 END) AS returning,
        SUM(CASE WHEN persistent THEN 1 ELSE 0 END) AS persistent,
        COUNT(*) AS persons
    FROM person_status
    GROUP BY year, age_group
)
SELECT
    y.year,
    a.age_group,
    COALESCE(c.new, 0) AS new,
    COALESCE(c.again, 0) AS again,
    COALESCE(c.returning, 0) AS returning,
    COALESCE(c.persistent, 0) AS persistent,
    COALESCE(c.persons, 0) AS persons
FROM warehouse_years AS y
CROSS JOIN age_groups AS a
LEFT JOIN counts AS c ON c.year = y.year AND c.age_group = a.age_group
ORDER BY y.year, a.ord
