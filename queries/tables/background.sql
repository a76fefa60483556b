-- Background (herkomst) of the counted persons (format version 2), by the person rule (the deciding
-- row, else the first row in tie-break order that knows it): every code in the order of the
-- format, zeros included; percent of the counted persons.
WITH codes AS (
    SELECT ord, code FROM (VALUES
        (1, 'danish'),
        (2, 'immigrant'),
        (3, 'descendant'),
        (4, 'unknown')
    ) AS t(ord, code)
),
total AS (
    SELECT COUNT(*) AS counted FROM persons WHERE counted
),
sums AS (
    SELECT indicator, SUM(persons) AS persons FROM municipal_indicators_long GROUP BY indicator
)
SELECT
    c.code AS background,
    COALESCE(s.persons, 0) AS persons,
    CASE WHEN t.counted = 0 THEN 0.0 ELSE round(100.0 * COALESCE(s.persons, 0) / t.counted, 1) END AS percent
FROM codes AS c
CROSS JOIN total AS t
LEFT JOIN sums AS s ON s.indicator = concat('background_', c.code)
ORDER BY c.ord
