-- The format version 2 measures of tables/municipal_indicators.csv, in output order, after
-- the version 1 indicators (40_indicator_list.sql). Empty when no counted person answers
-- any version 2 question: a count of version 1 files then gives the version 1 table byte
-- for byte (docs/DECISIONS.md). `mental_illness_treated` and `substance_treated` count
-- the persons who are ill (or abuse a substance) AND in treatment, as in tables/health.csv.
WITH answered AS (
    SELECT COALESCE(SUM(person_form_answered), 0) AS persons FROM municipal_indicator_counts
)
SELECT l.ord, l.indicator
FROM (VALUES
    (1 , 'cause_mental_illness'),
    (2 , 'cause_drugs'),
    (3 , 'cause_alcohol'),
    (4 , 'cause_economy'),
    (5 , 'cause_no_suitable_housing'),
    (6 , 'cause_eviction'),
    (7 , 'cause_family_friends_end'),
    (8 , 'cause_relationship_breakdown'),
    (9 , 'cause_released_institution'),
    (10, 'cause_other'),
    (11, 'cause_unknown'),
    (12, 'background_danish'),
    (13, 'background_immigrant'),
    (14, 'background_descendant'),
    (15, 'background_unknown'),
    (16, 'citizenship_danish'),
    (17, 'citizenship_eu_eea'),
    (18, 'citizenship_other'),
    (19, 'citizenship_unknown'),
    (20, 'physical_illness'),
    (21, 'mental_illness_treated'),
    (22, 'substance_treated')
) AS l(ord, indicator)
CROSS JOIN answered AS a
WHERE a.persons > 0
