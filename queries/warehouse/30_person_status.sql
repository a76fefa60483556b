-- Each counted person of each year with their linkage status (issue #12):
--   new        counted in no earlier year of the warehouse;
--   again      counted in the previous year of the warehouse;
--   returning  not counted in the previous year, but in an earlier one;
-- (these three are exclusive and sum to the year's counted persons), and
--   persistent counted in this year and at least two earlier years (overlaps the others).
-- Unlinkable persons (10_counted.sql) are always new.
WITH earlier AS (
    SELECT
        c.year,
        c.person_key,
        COUNT(e.year) AS earlier_counts,
        MAX(CASE WHEN e.year = py.previous_year THEN 1 ELSE 0 END) AS in_previous
    FROM counted AS c
    JOIN previous_years AS py ON py.year = c.year
    LEFT JOIN counted AS e
        ON e.person_key = c.person_key AND e.year < c.year AND e.linkable AND c.linkable
    GROUP BY c.year, c.person_key
)
SELECT
    c.year,
    c.person_key,
    c.linkable,
    c.situation,
    c.municipality,
    c.age_group,
    c.sex,
    c.support,
    CASE
        WHEN e.earlier_counts = 0 THEN 'new'
        WHEN e.in_previous = 1 THEN 'again'
        ELSE 'returning'
    END AS status,
    e.earlier_counts >= 2 AS persistent
FROM counted AS c
JOIN earlier AS e ON e.year = c.year AND e.person_key = c.person_key
