-- Indicator counts per municipality, one wide row per municipality, of COUNTED persons.
-- `homeless_3m_plus`: homeless 3 months or more (the housing guarantee's horizon).
-- `children_with_adults` is a count of children (the sum of `children`), not of persons.
SELECT
    municipality,
    COUNT(*) AS counted,
    SUM(CASE WHEN mental_illness = 'yes' THEN 1 ELSE 0 END) AS mental_illness,
    SUM(CASE WHEN substance_abuse NOT IN ('none', 'unknown') THEN 1 ELSE 0 END) AS substance_any,
    SUM(CASE WHEN concat('|', substance_abuse, '|') LIKE '%|alcohol|%' THEN 1 ELSE 0 END) AS substance_alcohol,
    SUM(CASE WHEN concat('|', substance_abuse, '|') LIKE '%|cannabis|%' THEN 1 ELSE 0 END) AS substance_cannabis,
    SUM(CASE WHEN concat('|', substance_abuse, '|') LIKE '%|hard_drugs|%' THEN 1 ELSE 0 END) AS substance_hard_drugs,
    SUM(CASE WHEN concat('|', substance_abuse, '|') LIKE '%|medication|%' THEN 1 ELSE 0 END) AS substance_medication,
    SUM(CASE WHEN concat('|', substance_abuse, '|') LIKE '%|other|%' THEN 1 ELSE 0 END) AS substance_other,
    SUM(CASE WHEN concat('|', support, '|') LIKE '%|act|%' THEN 1 ELSE 0 END) AS support_act,
    SUM(CASE WHEN concat('|', support, '|') LIKE '%|icm|%' THEN 1 ELSE 0 END) AS support_icm,
    SUM(CASE WHEN concat('|', support, '|') LIKE '%|cti|%' THEN 1 ELSE 0 END) AS support_cti,
    SUM(CASE WHEN concat('|', support, '|') LIKE '%|social_caretaker|%' THEN 1 ELSE 0 END) AS support_social_caretaker,
    SUM(CASE WHEN support = 'none' THEN 1 ELSE 0 END) AS support_none,
    SUM(CASE WHEN housing_queue = 'yes' THEN 1 ELSE 0 END) AS housing_queue,
    SUM(CASE WHEN action_plan = 'yes' THEN 1 ELSE 0 END) AS action_plan,
    SUM(CASE WHEN duration IN ('3to6m', '6to12m', '1to2y', 'gt2y') THEN 1 ELSE 0 END) AS homeless_3m_plus,
    SUM(CASE WHEN age BETWEEN 18 AND 24 THEN 1 ELSE 0 END) AS young_18_24,
    SUM(CASE WHEN age BETWEEN 18 AND 29 THEN 1 ELSE 0 END) AS youth_18_29,
    SUM(CASE WHEN sex = 'female' THEN 1 ELSE 0 END) AS women,
    SUM(CASE WHEN children > 0 THEN 1 ELSE 0 END) AS with_children,
    COALESCE(SUM(children), 0) AS children_with_adults,
    -- Format version 2 (the tables causes, background, citizenship and health).
    SUM(CASE WHEN concat('|', causes, '|') LIKE '%|mental_illness|%' THEN 1 ELSE 0 END) AS cause_mental_illness,
    SUM(CASE WHEN concat('|', causes, '|') LIKE '%|drugs|%' THEN 1 ELSE 0 END) AS cause_drugs,
    SUM(CASE WHEN concat('|', causes, '|') LIKE '%|alcohol|%' THEN 1 ELSE 0 END) AS cause_alcohol,
    SUM(CASE WHEN concat('|', causes, '|') LIKE '%|economy|%' THEN 1 ELSE 0 END) AS cause_economy,
    SUM(CASE WHEN concat('|', causes, '|') LIKE '%|no_suitable_housing|%' THEN 1 ELSE 0 END) AS cause_no_suitable_housing,
    SUM(CASE WHEN concat('|', causes, '|') LIKE '%|eviction|%' THEN 1 ELSE 0 END) AS cause_eviction,
    SUM(CASE WHEN concat('|', causes, '|') LIKE '%|family_friends_end|%' THEN 1 ELSE 0 END) AS cause_family_friends_end,
    SUM(CASE WHEN concat('|', causes, '|') LIKE '%|relationship_breakdown|%' THEN 1 ELSE 0 END) AS cause_relationship_breakdown,
    SUM(CASE WHEN concat('|', causes, '|') LIKE '%|released_institution|%' THEN 1 ELSE 0 END) AS cause_released_institution,
    SUM(CASE WHEN concat('|', causes, '|') LIKE '%|other|%' THEN 1 ELSE 0 END) AS cause_other,
    SUM(CASE WHEN causes = 'unknown' THEN 1 ELSE 0 END) AS cause_unknown,
    SUM(CASE WHEN background = 'danish' THEN 1 ELSE 0 END) AS background_danish,
    SUM(CASE WHEN background = 'immigrant' THEN 1 ELSE 0 END) AS background_immigrant,
    SUM(CASE WHEN background = 'descendant' THEN 1 ELSE 0 END) AS background_descendant,
    SUM(CASE WHEN background = 'unknown' THEN 1 ELSE 0 END) AS background_unknown,
    SUM(CASE WHEN citizenship = 'danish' THEN 1 ELSE 0 END) AS citizenship_danish,
    SUM(CASE WHEN citizenship = 'eu_eea' THEN 1 ELSE 0 END) AS citizenship_eu_eea,
    SUM(CASE WHEN citizenship = 'other' THEN 1 ELSE 0 END) AS citizenship_other,
    SUM(CASE WHEN citizenship = 'unknown' THEN 1 ELSE 0 END) AS citizenship_unknown,
    SUM(CASE WHEN physical_illness = 'yes' THEN 1 ELSE 0 END) AS physical_illness,
    -- Treated of those ill: both by the person rule (any row yes).
    SUM(CASE WHEN mental_illness = 'yes' AND mental_illness_treated = 'yes' THEN 1 ELSE 0 END) AS mental_illness_treated,
    SUM(CASE WHEN substance_abuse NOT IN ('none', 'unknown') AND substance_treated = 'yes' THEN 1 ELSE 0 END) AS substance_treated,
    -- Persons who answer any version 2 question (43_person_form_indicator_list.sql).
    SUM(CASE WHEN background <> 'unknown' OR citizenship <> 'unknown' OR physical_illness <> 'unknown'
        OR mental_illness_treated <> 'unknown' OR substance_treated <> 'unknown' OR causes <> 'unknown'
        THEN 1 ELSE 0 END) AS person_form_answered
FROM persons
WHERE counted
GROUP BY municipality
