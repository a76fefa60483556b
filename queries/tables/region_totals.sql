-- Counted persons per region (the region of the person's municipality), exact, all five
-- regions (zeros included). A margin of municipal_totals: published with it, suppressed
-- together (src/publish/disclosure/).
SELECT r.region, COUNT(p.person_key) AS persons
FROM (SELECT DISTINCT region FROM municipalities) AS r
LEFT JOIN municipalities AS m ON m.region = r.region
LEFT JOIN persons AS p ON p.municipality = m.code AND p.counted
GROUP BY r.region
ORDER BY r.region
