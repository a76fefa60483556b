-- Counted persons by ETHOS Light category (FEANTSA; the placement of each SFI category is
-- data/ethos_light/mapping.csv, registered as `ethos_light_map`), so the Danish figure can
-- be compared abroad. Rows: the six categories `1`-`6` (zeros included), their sum
-- `ethos_light_total`, `outside` (situations with no ETHOS Light category), `unknown`
-- (situation not stated), and `total` (all counted persons, as national_by_category).
-- `situations` lists the SFI categories of each row in precedence order.
WITH per_situation AS (
    SELECT m.ord, m.ethos_light, s.rank, m.situation, COUNT(p.person_key) AS persons
    FROM ethos_light_map AS m
    JOIN situations AS s ON s.situation = m.situation
    LEFT JOIN persons AS p ON p.situation = m.situation AND p.counted
    GROUP BY m.ord, m.ethos_light, s.rank, m.situation
),
categories AS (
    SELECT ord, ethos_light FROM (VALUES
        (1, '1'), (2, '2'), (3, '3'), (4, '4'), (5, '5'), (6, '6'),
        (8, 'outside'), (9, 'unknown')
    ) AS t(ord, ethos_light)
),
rows AS (
    SELECT
        c.ord,
        c.ethos_light,
        COALESCE(string_agg(ps.situation, '|' ORDER BY ps.rank), '') AS situations,
        COALESCE(SUM(ps.persons), 0) AS persons
    FROM categories AS c
    LEFT JOIN per_situation AS ps ON ps.ethos_light = c.ethos_light
    GROUP BY c.ord, c.ethos_light
)
SELECT ethos_light, situations, persons FROM (
    SELECT ord, ethos_light, situations, persons FROM rows
    UNION ALL
    SELECT 7, 'ethos_light_total', '', COALESCE(SUM(persons), 0) FROM rows WHERE ord <= 6
    UNION ALL
    SELECT 10, 'total', '', COUNT(*) FROM persons WHERE counted
)
ORDER BY ord
