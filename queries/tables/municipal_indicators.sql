-- Indicators per municipality (exact), every municipality with counted persons, every
-- indicator (zeros included), then the format version 2 measures when the count has them.
SELECT
    c.municipality,
    m.name AS municipality_name,
    l.indicator,
    COALESCE(v.persons, 0) AS persons
FROM municipal_indicator_counts AS c
JOIN municipalities AS m ON m.code = c.municipality
CROSS JOIN (
    -- Format version 2 measures after the version 1 indicators (empty for a version 1 count).
    SELECT ord, indicator FROM indicator_list
    UNION ALL
    SELECT 100 + ord AS ord, indicator FROM person_form_indicator_list
) AS l
LEFT JOIN municipal_indicators_long AS v
    ON v.municipality = c.municipality AND v.indicator = l.indicator
ORDER BY c.municipality, l.ord
