-- Per year and municipality (home municipality, as the municipal tables): counted persons by
-- linkage status. All 98 municipalities, zeros included. The published copy
-- (tables/published/) shows counts from 1 to min_cell-1 as "<N", like municipal_totals.
WITH counts AS (
    SELECT
        year,
        municipality,
        SUM(CASE WHEN status = 'new' THEN 1 ELSE 0 END) AS new,
        SUM(CASE WHEN status = 'again' THEN 1 ELSE 0 END) AS again,
        SUM(CASE WHEN status = 'returning' THEN 1 ELSE 0 END) AS returning,
        SUM(CASE WHEN persistent THEN 1 ELSE 0 END) AS persistent,
        COUNT(*) AS persons
    FROM person_status
    GROUP BY year, municipality
)
SELECT
    y.year,
    m.code AS municipality,
    m.name AS municipality_name,
    COALESCE(c.new, 0) AS new,
    COALESCE(c.again, 0) AS again,
    COALESCE(c.returning, 0) AS returning,
    COALESCE(c.persistent, 0) AS persistent,
    COALESCE(c.persons, 0) AS persons
FROM warehouse_years AS y
CROSS JOIN municipalities AS m
LEFT JOIN counts AS c ON c.year = y.year AND c.municipality = m.code
ORDER BY y.year, m.code
