-- Linking (categories.md, deduplication rule 3). An alternative key (birth date, sex,
-- initials) belongs to a CPR person when exactly ONE CPR person's rows carry it. When two or
-- more do (twins with the same initials), the key owns nobody: rows without a CPR number
-- that carry it are not linked to any of them and stay together as their own person.
SELECT alt_key, MIN(cpr_key) AS cpr_key
FROM staging
WHERE cpr_key IS NOT NULL
  AND alt_key IS NOT NULL
GROUP BY alt_key
HAVING MIN(cpr_key) = MAX(cpr_key)
