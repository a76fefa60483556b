-- Counted persons by sex: male, female, unknown, zeros included.
WITH sexes AS (
    SELECT ord, sex FROM (VALUES (1, 'male'), (2, 'female'), (3, 'unknown')) AS t(ord, sex)
),
counts AS (
    SELECT sex, COUNT(*) AS persons FROM persons WHERE counted GROUP BY sex
)
SELECT s.sex, COALESCE(c.persons, 0) AS persons
FROM sexes AS s
LEFT JOIN counts AS c ON c.sex = s.sex
ORDER BY s.ord
