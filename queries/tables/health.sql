-- Health of the counted persons (format version 2), by the person rules (any row yes):
--   physical_illness        persons with a physical illness, of all counted persons;
--   mental_illness_treated  persons with a mental illness who are in treatment for it, of
--                           the persons with a mental illness;
--   substance_treated       persons whose substance abuse names a substance who are in
--                           treatment for it, of those persons.
-- The percent is empty when the denominator is 0 (a share of nobody is not 0 %).
WITH sums AS (
    SELECT indicator, SUM(persons) AS persons FROM municipal_indicators_long GROUP BY indicator
),
total AS (
    SELECT COUNT(*) AS counted FROM persons WHERE counted
),
measures AS (
    SELECT ord, measure, denominator FROM (VALUES
        (1, 'physical_illness', ''),
        (2, 'mental_illness_treated', 'mental_illness'),
        (3, 'substance_treated', 'substance_any')
    ) AS t(ord, measure, denominator)
),
counts AS (
    SELECT
        m.ord,
        m.measure,
        COALESCE(n.persons, 0) AS persons,
        CASE WHEN m.denominator = '' THEN t.counted ELSE COALESCE(d.persons, 0) END AS denominator
    FROM measures AS m
    CROSS JOIN total AS t
    LEFT JOIN sums AS n ON n.indicator = m.measure
    LEFT JOIN sums AS d ON d.indicator = m.denominator
)
SELECT
    measure,
    persons,
    denominator,
    CASE WHEN denominator = 0 THEN CAST(NULL AS DOUBLE) ELSE round(100.0 * persons / denominator, 1) END AS percent
FROM counts
ORDER BY ord
