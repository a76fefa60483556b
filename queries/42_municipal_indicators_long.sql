-- The per-municipality indicator counts in long form: (municipality, indicator, persons).
SELECT municipality, 'mental_illness' AS indicator, mental_illness AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'substance_any' AS indicator, substance_any AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'substance_alcohol' AS indicator, substance_alcohol AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'substance_cannabis' AS indicator, substance_cannabis AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'substance_hard_drugs' AS indicator, substance_hard_drugs AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'substance_medication' AS indicator, substance_medication AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'substance_other' AS indicator, substance_other AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'support_act' AS indicator, support_act AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'support_icm' AS indicator, support_icm AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'support_cti' AS indicator, support_cti AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'support_social_caretaker' AS indicator, support_social_caretaker AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'support_none' AS indicator, support_none AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'housing_queue' AS indicator, housing_queue AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'action_plan' AS indicator, action_plan AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'homeless_3m_plus' AS indicator, homeless_3m_plus AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'young_18_24' AS indicator, young_18_24 AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'youth_18_29' AS indicator, youth_18_29 AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'women' AS indicator, women AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'with_children' AS indicator, with_children AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'children_with_adults' AS indicator, children_with_adults AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'cause_mental_illness' AS indicator, cause_mental_illness AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'cause_drugs' AS indicator, cause_drugs AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'cause_alcohol' AS indicator, cause_alcohol AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'cause_economy' AS indicator, cause_economy AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'cause_no_suitable_housing' AS indicator, cause_no_suitable_housing AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'cause_eviction' AS indicator, cause_eviction AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'cause_family_friends_end' AS indicator, cause_family_friends_end AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'cause_relationship_breakdown' AS indicator, cause_relationship_breakdown AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'cause_released_institution' AS indicator, cause_released_institution AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'cause_other' AS indicator, cause_other AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'cause_unknown' AS indicator, cause_unknown AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'background_danish' AS indicator, background_danish AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'background_immigrant' AS indicator, background_immigrant AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'background_descendant' AS indicator, background_descendant AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'background_unknown' AS indicator, background_unknown AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'citizenship_danish' AS indicator, citizenship_danish AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'citizenship_eu_eea' AS indicator, citizenship_eu_eea AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'citizenship_other' AS indicator, citizenship_other AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'citizenship_unknown' AS indicator, citizenship_unknown AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'physical_illness' AS indicator, physical_illness AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'mental_illness_treated' AS indicator, mental_illness_treated AS persons FROM municipal_indicator_counts
UNION ALL
SELECT municipality, 'substance_treated' AS indicator, substance_treated AS persons FROM municipal_indicator_counts
