-- Per reporting unit (respondent_id): its accepted rows, the persons they are, and how many
-- of those persons other units reported too. Feeds feedback/<respondent_id>.md; it shows a
-- unit nothing of another unit's data.
WITH unit_rows AS (
    SELECT respondent_id, COUNT(*) AS rows_accepted FROM submissions GROUP BY respondent_id
),
unit_persons AS (
    SELECT DISTINCT respondent_id, person_key FROM submissions
)
SELECT
    u.respondent_id,
    r.rows_accepted,
    COUNT(*) AS persons,
    SUM(CASE WHEN p.respondents > 1 THEN 1 ELSE 0 END) AS persons_also_reported_by_others,
    SUM(CASE WHEN p.counted THEN 1 ELSE 0 END) AS persons_counted
FROM unit_persons AS u
JOIN persons AS p ON p.person_key = u.person_key
JOIN unit_rows AS r ON r.respondent_id = u.respondent_id
GROUP BY u.respondent_id, r.rows_accepted
ORDER BY u.respondent_id
