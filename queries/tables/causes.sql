-- Causes of homelessness (format version 2): counted persons naming each cause (a person
-- may name several, so the rows add up to more than the count), in the order of the format,
-- then `unknown` (no row of the person names a cause); percent of the counted persons.
WITH causes AS (
    SELECT ord, cause FROM (VALUES
        (1 , 'mental_illness'),
        (2 , 'drugs'),
        (3 , 'alcohol'),
        (4 , 'economy'),
        (5 , 'no_suitable_housing'),
        (6 , 'eviction'),
        (7 , 'family_friends_end'),
        (8 , 'relationship_breakdown'),
        (9 , 'released_institution'),
        (10, 'other'),
        (11, 'unknown')
    ) AS t(ord, cause)
),
total AS (
    SELECT COUNT(*) AS counted FROM persons WHERE counted
),
sums AS (
    SELECT indicator, SUM(persons) AS persons FROM municipal_indicators_long GROUP BY indicator
)
SELECT
    c.cause,
    COALESCE(s.persons, 0) AS persons,
    CASE WHEN t.counted = 0 THEN 0.0 ELSE round(100.0 * COALESCE(s.persons, 0) / t.counted, 1) END AS percent
FROM causes AS c
CROSS JOIN total AS t
LEFT JOIN sums AS s ON s.indicator = concat('cause_', c.cause)
ORDER BY c.ord
