-- For every year of the warehouse, the count before it in the warehouse (NULL for the first).
-- `warehouse_years` lists every stored year, also one with no counted persons.
SELECT y.year, MAX(e.year) AS previous_year
FROM warehouse_years AS y
LEFT JOIN warehouse_years AS e ON e.year < y.year
GROUP BY y.year
