-- Indicators per municipality (exact), every municipality with counted persons, every
-- indicator (zeros included).
SELECT
    c.municipality,
    m.name AS municipality_name,
    l.indicator,
    COALESCE(v.persons, 0) AS persons
FROM municipal_indicator_counts AS c
JOIN municipalities AS m ON m.code = c.municipality
CROSS JOIN indicator_list AS l
LEFT JOIN municipal_indicators_long AS v
    ON v.municipality = c.municipality AND v.indicator = l.indicator
ORDER BY c.municipality, l.ord
