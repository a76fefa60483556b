-- Counted persons by age group and sex (for the age pyramid of the report): every
-- combination, zeros included.
WITH sexes AS (
    SELECT ord, sex FROM (VALUES (1, 'male'), (2, 'female'), (3, 'unknown')) AS t(ord, sex)
),
counts AS (
    SELECT age_group, sex, COUNT(*) AS persons FROM persons WHERE counted GROUP BY age_group, sex
)
SELECT g.age_group, s.sex, COALESCE(c.persons, 0) AS persons
FROM age_groups AS g
CROSS JOIN sexes AS s
LEFT JOIN counts AS c ON c.age_group = g.age_group AND c.sex = s.sex
ORDER BY g.ord, s.ord
