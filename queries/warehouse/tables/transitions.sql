-- Per year: how the situation of linkable persons changed since the previous count of the
-- warehouse. `from_situation` is the situation in the previous count, `to_situation` this
-- year's; 'not_counted' on either side: counted in only one of the two counts. Not being
-- counted again is NOT the same as being housed (a week's snapshot; coverage varies).
-- Years without a previous count have no rows. Rows with persons only, in precedence order.
WITH pairs AS (
    SELECT py.year, py.previous_year FROM previous_years AS py WHERE py.previous_year IS NOT NULL
),
before AS (
    SELECT p.year, c.person_key, c.situation
    FROM pairs AS p JOIN counted AS c ON c.year = p.previous_year AND c.linkable
),
now AS (
    SELECT p.year, c.person_key, c.situation
    FROM pairs AS p JOIN counted AS c ON c.year = p.year AND c.linkable
),
moves AS (
    SELECT
        COALESCE(n.year, b.year) AS year,
        COALESCE(b.situation, 'not_counted') AS from_situation,
        COALESCE(n.situation, 'not_counted') AS to_situation
    FROM before AS b
    FULL OUTER JOIN now AS n ON n.year = b.year AND n.person_key = b.person_key
)
SELECT m.year, m.from_situation, m.to_situation, COUNT(*) AS persons
FROM moves AS m
LEFT JOIN situations AS f ON f.situation = m.from_situation
LEFT JOIN situations AS t ON t.situation = m.to_situation
GROUP BY m.year, m.from_situation, m.to_situation, f.rank, t.rank
ORDER BY m.year, COALESCE(f.rank, 1000), COALESCE(t.rank, 1000)
