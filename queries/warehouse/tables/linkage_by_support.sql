-- Per year and support (Housing First floating support: ACT, ICM, CTI; a person with several
-- is in each of their rows; `none_of_these`: none of the three, including unknown):
-- counted persons by linkage status. Zeros included.
WITH supports AS (
    SELECT * FROM (VALUES (1, 'act'), (2, 'icm'), (3, 'cti'), (4, 'none_of_these'))
        AS t(ord, support)
),
tagged AS (
    SELECT p.year, p.status, p.persistent, s.support
    FROM person_status AS p
    JOIN supports AS s ON
        (s.support <> 'none_of_these' AND concat('|', p.support, '|') LIKE concat('%|', s.support, '|%'))
        OR (s.support = 'none_of_these'
            AND concat('|', p.support, '|') NOT LIKE '%|act|%'
            AND concat('|', p.support, '|') NOT LIKE '%|icm|%'
            AND concat('|', p.support, '|') NOT LIKE '%|cti|%')
),
counts AS (
    SELECT
        year,
        support,
        SUM(CASE WHEN status = 'new' THEN 1 ELSE 0 END) AS new,
        SUM(CASE WHEN status = 'again' THEN 1 ELSE 0 END) AS again,
        SUM(CASE WHEN status = 'returning' THEN 1 ELSE 0 END) AS returning,
        SUM(CASE WHEN persistent THEN 1 ELSE 0 END) AS persistent,
        COUNT(*) AS persons
    FROM tagged
    GROUP BY year, support
)
SELECT
    y.year,
    s.support,
    COALESCE(c.new, 0) AS new,
    COALESCE(c.again, 0) AS again,
    COALESCE(c.returning, 0) AS returning,
    COALESCE(c.persistent, 0) AS persistent,
    COALESCE(c.persons, 0) AS persons
FROM warehouse_years AS y
CROSS JOIN supports AS s
LEFT JOIN counts AS c ON c.year = y.year AND c.support = s.support
ORDER BY y.year, s.ord
