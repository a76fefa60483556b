-- Per reporting unit: how many persons its rows are, how many of them other units reported
-- too, and how many are counted. Everything here is per person, so the engine runs this
-- query once per range of person keys (like 30_persons.sql) and stacks the results: a unit
-- has one row per range, and tables/respondent_feedback.sql adds them up. (Each person is
-- in exactly one range, so the sums are exact.)
SELECT
    u.respondent_id,
    COUNT(*) AS persons,
    SUM(CASE WHEN p.respondents > 1 THEN 1 ELSE 0 END) AS persons_also_reported_by_others,
    SUM(CASE WHEN p.counted THEN 1 ELSE 0 END) AS persons_counted
FROM (SELECT DISTINCT respondent_id, person_key FROM submissions) AS u
JOIN persons AS p ON p.person_key = u.person_key
GROUP BY u.respondent_id
