-- Linking (categories.md, deduplication rule 3). An alternative key (birth date, sex,
-- initials) belongs to a CPR person when exactly ONE CPR person's rows carry it. When two or
-- more do (twins with the same initials), the key owns nobody: rows without a CPR number
-- that carry it are not linked to any of them and stay together as their own person.
--
-- Only keys that some row WITHOUT a CPR number carries are kept: those are the only rows
-- that look an owner up (20_submissions.sql). In a count most alternative keys come from CPR
-- rows alone, so the lookup table stays a small fraction of the persons.
SELECT alt_key, MIN(cpr_key) AS cpr_key
FROM staging
WHERE alt_key IS NOT NULL
GROUP BY alt_key
HAVING MIN(cpr_key) = MAX(cpr_key)   -- one CPR person (MIN and MAX skip rows without CPR)
   AND bool_or(cpr_key IS NULL)      -- and a row without CPR that needs it
