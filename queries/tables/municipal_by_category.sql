-- Counted persons by municipality (home municipality when known, else where they stayed)
-- and category: exact counts, every municipality and category with persons > 0.
SELECT
    p.municipality,
    m.name AS municipality_name,
    p.situation,
    COUNT(*) AS persons
FROM persons AS p
JOIN municipalities AS m ON m.code = p.municipality
JOIN situations AS s ON s.situation = p.situation
WHERE p.counted
GROUP BY p.municipality, m.name, p.situation, s.rank
ORDER BY p.municipality, s.rank
