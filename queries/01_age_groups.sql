-- Age groups of counted persons (submission-format.md, "Count date, age"). Age is whole
-- years on the count date (computed at ingest). Persons under 18 are not counted; their
-- group `0-17` appears only in persons.parquet.
SELECT ord, age_group, min_age, max_age
FROM (VALUES
    (1, '18-24',   18,  24),
    (2, '25-29',   25,  29),
    (3, '30-39',   30,  39),
    (4, '40-49',   40,  49),
    (5, '50-59',   50,  59),
    (6, '60+',     60,  200),
    (7, 'unknown', NULL, NULL)
) AS t(ord, age_group, min_age, max_age)
