-- The homelessness situations (SFI categories) in precedence order, from categories.md.
-- When one person is reported in several situations, the lowest rank wins: the most acute
-- situation is the one that is counted. `not_homeless` ranks last and is never counted.
-- To change the precedence, change the ranks here (and the table in categories.md).
SELECT rank, situation, label_da, homeless
FROM (VALUES
    (1,  'rough_sleeping',     'Gadesovende',                       true),
    (2,  'night_shelter',      'Natvarmestue / nødovernatning',     true),
    (3,  'shelter',            'Forsorgshjem / herberg',            true),
    (4,  'hotel',              'Hotel, vandrehjem, camping',        true),
    (5,  'family_friends',     'Midlertidigt hos familie/venner',   true),
    (6,  'transitional',       'Midlertidig udslusningsbolig',      true),
    (7,  'makeshift',          'Kolonihave, campingvogn, nødbolig', true),
    (8,  'prison_release',     'Afventer løsladelse',               true),
    (9,  'hospital_discharge', 'Afventer udskrivning',              true),
    (10, 'functional',         'Funktionel hjemløshed',             true),
    (11, 'other',              'Andet',                             true),
    (12, 'unknown',            'Uoplyst',                           true),
    (13, 'not_homeless',       'Ikke hjemløs',                      false)
) AS t(rank, situation, label_da, homeless)
