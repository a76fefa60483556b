-- The counted persons of every year of the warehouse (one row per year and person).
-- Input: `warehouse_persons` = every year's persons.parquet with its `year` (the Hive
-- partition year=YYYY). Only counted persons take part in the linkage: a child or a person
-- in a non-homeless situation was not counted, so was not "counted again".
-- A person known only by their row (id_kind 'unidentified': no CPR, no replacement number,
-- no birth date + sex + initials) is never linked: their key is a hash of file name and
-- line, which a file of the same name in another year would repeat by chance.
SELECT
    p.year,
    p.person_key,
    p.id_kind <> 'unidentified' AS linkable,
    p.situation,
    p.municipality,
    p.age_group,
    p.sex,
    p.support
FROM warehouse_persons AS p
WHERE p.counted
