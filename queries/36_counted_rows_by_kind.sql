-- Per range of person keys (like 35_unit_person_counts.sql): the accepted rows of the
-- counted persons, by how each row was identified. tables/linking_sensitivity.sql adds the
-- ranges up. Per range, because the join of every row with its person cannot spill to
-- disk: over a whole count of 10 million rows it held 650 MB at once (issue #14).
SELECT s.id_kind, s.linked, COUNT(*) AS row_count
FROM submissions AS s
JOIN persons AS p ON p.person_key = s.person_key
WHERE p.counted
GROUP BY s.id_kind, s.linked
