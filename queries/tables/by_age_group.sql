-- Counted persons by age group on the count date, every group, zeros included.
WITH counts AS (
    SELECT age_group, COUNT(*) AS persons FROM persons WHERE counted GROUP BY age_group
)
SELECT g.age_group, COALESCE(c.persons, 0) AS persons
FROM age_groups AS g
LEFT JOIN counts AS c ON c.age_group = g.age_group
ORDER BY g.ord
