-- Indicators of counted persons, with the percent of counted persons (one decimal).
-- `children_with_adults` counts children, not persons: it has no percent.
WITH total AS (
    SELECT COUNT(*) AS counted FROM persons WHERE counted
),
sums AS (
    SELECT indicator, SUM(persons) AS persons FROM municipal_indicators_long GROUP BY indicator
)
SELECT
    l.indicator,
    COALESCE(s.persons, 0) AS persons,
    CASE
        WHEN l.indicator = 'children_with_adults' THEN NULL
        WHEN t.counted = 0 THEN 0.0
        ELSE round(100.0 * COALESCE(s.persons, 0) / t.counted, 1)
    END AS percent
FROM indicator_list AS l
CROSS JOIN total AS t
LEFT JOIN sums AS s ON s.indicator = l.indicator
ORDER BY l.ord
