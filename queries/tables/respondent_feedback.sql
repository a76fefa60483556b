-- Per reporting unit (respondent_id): its accepted rows, the persons they are, and how many
-- of those persons other units reported too. Feeds feedback/<respondent_id>.md; it shows a
-- unit nothing of another unit's data.
WITH unit_rows AS (
    SELECT respondent_id, COUNT(*) AS rows_accepted FROM submissions GROUP BY respondent_id
)
SELECT
    r.respondent_id,
    r.rows_accepted,
    SUM(c.persons) AS persons,
    SUM(c.persons_also_reported_by_others) AS persons_also_reported_by_others,
    SUM(c.persons_counted) AS persons_counted
FROM unit_rows AS r
JOIN unit_person_counts AS c ON c.respondent_id = r.respondent_id
GROUP BY r.respondent_id, r.rows_accepted
ORDER BY r.respondent_id
