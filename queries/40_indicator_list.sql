-- The indicators of tables/indicators.csv, in output order (outputs.md).
SELECT ord, indicator
FROM (VALUES
    (1,  'mental_illness'),
    (2,  'substance_any'),
    (3,  'substance_alcohol'),
    (4,  'substance_cannabis'),
    (5,  'substance_hard_drugs'),
    (6,  'substance_medication'),
    (7,  'substance_other'),
    (8,  'support_act'),
    (9,  'support_icm'),
    (10, 'support_cti'),
    (11, 'support_social_caretaker'),
    (12, 'support_none'),
    (13, 'housing_queue'),
    (14, 'action_plan'),
    (15, 'homeless_3m_plus'),
    (16, 'young_18_24'),
    (17, 'youth_18_29'),
    (18, 'women'),
    (19, 'with_children'),
    (20, 'children_with_adults')
) AS t(ord, indicator)
