-- One row per person (categories.md, classification).
--
-- The DECIDING ROW is the person's row with the best (lowest) situation rank; ties are
-- broken by respondent_id, then file name, then line number, all ascending. Situation,
-- municipality, residence, duration, income, children, birth date and sex come from it.
-- Across all the person's rows: mental illness, housing queue and action plan are `yes` if
-- any row says yes, else `no` if any says no, else `unknown`; substances and support are the
-- union of what the rows name (`none` only when no row names one and some row says none).
-- Format version 2: physical illness and the two treatment answers follow the yes/no rule,
-- causes are the union of the named causes (`unknown` when no row names one), and
-- background and citizenship come from the deciding row, or, when it does not know them,
-- from the first row in tie-break order (respondent_id, file name, line: `row_order`) that
-- does. That row is found like the deciding row: MIN(row_order × 4 + code), code 1–3, per
-- person (row_order < 2^59, so × 4 stays below 2^63).
--
-- How the deciding row is found: each row gets a number `decider` = rank × 2^59 +
-- row_order (submissions numbers its rows by respondent_id, file name, line; exact while
-- there are fewer than 2^27 (unit, file) pairs and no file has 2^32 lines). The smallest
-- decider of a person is exactly the deciding row, which is then joined back to read its
-- values. One integer MIN per person: a window (ROW_NUMBER per person) took 2 s per
-- million rows, DISTINCT ON 28 s, a packed text key 1.2 s more than this.
WITH rows AS (
    SELECT
        u.person_key,
        u.respondent_id,
        u.id_kind,
        CAST(s.rank AS BIGINT) * 576460752303423488 + u.row_order AS decider,
        CASE u.mental_illness WHEN 'yes' THEN 2 WHEN 'no' THEN 1 ELSE 0 END AS mental_illness,
        CASE u.housing_queue  WHEN 'yes' THEN 2 WHEN 'no' THEN 1 ELSE 0 END AS housing_queue,
        CASE u.action_plan    WHEN 'yes' THEN 2 WHEN 'no' THEN 1 ELSE 0 END AS action_plan,
        concat('|', u.substance_abuse, '|') AS substances,
        concat('|', u.support, '|') AS supports,
        CASE u.physical_illness       WHEN 'yes' THEN 2 WHEN 'no' THEN 1 ELSE 0 END AS physical_illness,
        CASE u.mental_illness_treated WHEN 'yes' THEN 2 WHEN 'no' THEN 1 ELSE 0 END AS mental_illness_treated,
        CASE u.substance_treated      WHEN 'yes' THEN 2 WHEN 'no' THEN 1 ELSE 0 END AS substance_treated,
        u.row_order * 4 + CASE u.background
            WHEN 'danish' THEN 1 WHEN 'immigrant' THEN 2 WHEN 'descendant' THEN 3 END AS background_known,
        u.row_order * 4 + CASE u.citizenship
            WHEN 'danish' THEN 1 WHEN 'eu_eea' THEN 2 WHEN 'other' THEN 3 END AS citizenship_known,
        concat('|', u.causes, '|') AS causes
    FROM submissions AS u
    JOIN situations AS s ON s.situation = u.situation
),
-- Per person and reporting unit first, then per person: two plain aggregations, because a
-- COUNT(DISTINCT respondent_id) per person keeps a hash set per person (slow and large).
per_unit AS (
    SELECT
        person_key,
        respondent_id,
        MIN(id_kind) AS id_kind,
        MIN(decider) AS decider,
        COUNT(*) AS reports,
        MAX(mental_illness) AS mental_illness,
        MAX(housing_queue) AS housing_queue,
        MAX(action_plan) AS action_plan,
        bool_or(substances LIKE '%|alcohol|%')          AS alcohol,
        bool_or(substances LIKE '%|cannabis|%')         AS cannabis,
        bool_or(substances LIKE '%|hard_drugs|%')       AS hard_drugs,
        bool_or(substances LIKE '%|medication|%')       AS medication,
        bool_or(substances LIKE '%|other|%')            AS substance_other,
        bool_or(substances = '|none|')                  AS substance_none,
        bool_or(supports LIKE '%|act|%')                AS act,
        bool_or(supports LIKE '%|icm|%')                AS icm,
        bool_or(supports LIKE '%|cti|%')                AS cti,
        bool_or(supports LIKE '%|social_caretaker|%')   AS social_caretaker,
        bool_or(supports LIKE '%|other|%')              AS support_other,
        bool_or(supports = '|none|')                    AS support_none,
        MAX(physical_illness) AS physical_illness,
        MAX(mental_illness_treated) AS mental_illness_treated,
        MAX(substance_treated) AS substance_treated,
        MIN(background_known) AS background_known,
        MIN(citizenship_known) AS citizenship_known,
        bool_or(causes LIKE '%|mental_illness|%')         AS cause_mental_illness,
        bool_or(causes LIKE '%|drugs|%')                  AS cause_drugs,
        bool_or(causes LIKE '%|alcohol|%')                AS cause_alcohol,
        bool_or(causes LIKE '%|economy|%')                AS cause_economy,
        bool_or(causes LIKE '%|no_suitable_housing|%')    AS cause_no_suitable_housing,
        bool_or(causes LIKE '%|eviction|%')               AS cause_eviction,
        bool_or(causes LIKE '%|family_friends_end|%')     AS cause_family_friends_end,
        bool_or(causes LIKE '%|relationship_breakdown|%') AS cause_relationship_breakdown,
        bool_or(causes LIKE '%|released_institution|%')   AS cause_released_institution,
        bool_or(causes LIKE '%|other|%')                  AS cause_other
    FROM rows
    GROUP BY person_key, respondent_id
),
per_person AS (
    SELECT
        person_key,
        MIN(id_kind) AS id_kind,
        MIN(decider) AS decider,
        SUM(reports) AS reports,
        COUNT(*) AS respondents,
        MAX(mental_illness) AS mi,
        MAX(housing_queue) AS hq,
        MAX(action_plan) AS ap,
        concat_ws('|',
            CASE WHEN bool_or(alcohol) THEN 'alcohol' END,
            CASE WHEN bool_or(cannabis) THEN 'cannabis' END,
            CASE WHEN bool_or(hard_drugs) THEN 'hard_drugs' END,
            CASE WHEN bool_or(medication) THEN 'medication' END,
            CASE WHEN bool_or(substance_other) THEN 'other' END) AS substances,
        bool_or(substance_none) AS substance_none,
        concat_ws('|',
            CASE WHEN bool_or(act) THEN 'act' END,
            CASE WHEN bool_or(icm) THEN 'icm' END,
            CASE WHEN bool_or(cti) THEN 'cti' END,
            CASE WHEN bool_or(social_caretaker) THEN 'social_caretaker' END,
            CASE WHEN bool_or(support_other) THEN 'other' END) AS supports,
        bool_or(support_none) AS support_none,
        MAX(physical_illness) AS pi,
        MAX(mental_illness_treated) AS mit,
        MAX(substance_treated) AS st,
        MIN(background_known) AS background_known,
        MIN(citizenship_known) AS citizenship_known,
        concat_ws('|',
            CASE WHEN bool_or(cause_mental_illness) THEN 'mental_illness' END,
            CASE WHEN bool_or(cause_drugs) THEN 'drugs' END,
            CASE WHEN bool_or(cause_alcohol) THEN 'alcohol' END,
            CASE WHEN bool_or(cause_economy) THEN 'economy' END,
            CASE WHEN bool_or(cause_no_suitable_housing) THEN 'no_suitable_housing' END,
            CASE WHEN bool_or(cause_eviction) THEN 'eviction' END,
            CASE WHEN bool_or(cause_family_friends_end) THEN 'family_friends_end' END,
            CASE WHEN bool_or(cause_relationship_breakdown) THEN 'relationship_breakdown' END,
            CASE WHEN bool_or(cause_released_institution) THEN 'released_institution' END,
            CASE WHEN bool_or(cause_other) THEN 'other' END) AS causes
    FROM per_unit
    GROUP BY person_key
),
-- The deciding row's values (fields 5 to 14 of the decider).
deciding AS (
    SELECT
        p.*,
        u.situation,
        u.municipality AS stay_municipality,
        u.home_municipality,
        u.residence,
        u.duration,
        u.income,
        u.children,
        u.birth_date,
        u.sex,
        u.age,
        u.background,
        u.citizenship
    FROM per_person AS p
    JOIN submissions AS u ON u.row_order = p.decider % 576460752303423488
)
SELECT
    d.person_key,
    d.situation,
    COALESCE(d.home_municipality, d.stay_municipality) AS municipality,
    d.stay_municipality,
    d.residence,
    CASE WHEN d.supports <> '' THEN d.supports WHEN d.support_none THEN 'none' ELSE 'unknown' END AS support,
    CASE d.hq WHEN 2 THEN 'yes' WHEN 1 THEN 'no' ELSE 'unknown' END AS housing_queue,
    CASE d.ap WHEN 2 THEN 'yes' WHEN 1 THEN 'no' ELSE 'unknown' END AS action_plan,
    COALESCE(d.sex, 'unknown') AS sex,
    d.birth_date,
    d.age,
    CASE
        WHEN d.age IS NULL THEN 'unknown'
        WHEN d.age < 18 THEN '0-17'
        WHEN d.age < 25 THEN '18-24'
        WHEN d.age < 30 THEN '25-29'
        WHEN d.age < 40 THEN '30-39'
        WHEN d.age < 50 THEN '40-49'
        WHEN d.age < 60 THEN '50-59'
        ELSE '60+'
    END AS age_group,
    COALESCE(d.duration, 'unknown') AS duration,
    CASE d.mi WHEN 2 THEN 'yes' WHEN 1 THEN 'no' ELSE 'unknown' END AS mental_illness,
    CASE WHEN d.substances <> '' THEN d.substances WHEN d.substance_none THEN 'none' ELSE 'unknown' END AS substance_abuse,
    COALESCE(d.income, 'unknown') AS income,
    d.children,
    d.reports,
    d.respondents,
    d.id_kind,
    -- Counted: a homelessness situation, not a migrant without permanent residence, not a
    -- child (unknown age is counted).
    (s.homeless AND d.residence <> 'no_permanent' AND (d.age IS NULL OR d.age >= 18)) AS counted,
    -- Format version 2.
    CASE
        WHEN d.background IN ('danish', 'immigrant', 'descendant') THEN d.background
        WHEN d.background_known % 4 = 1 THEN 'danish'
        WHEN d.background_known % 4 = 2 THEN 'immigrant'
        WHEN d.background_known % 4 = 3 THEN 'descendant'
        ELSE 'unknown'
    END AS background,
    CASE
        WHEN d.citizenship IN ('danish', 'eu_eea', 'other') THEN d.citizenship
        WHEN d.citizenship_known % 4 = 1 THEN 'danish'
        WHEN d.citizenship_known % 4 = 2 THEN 'eu_eea'
        WHEN d.citizenship_known % 4 = 3 THEN 'other'
        ELSE 'unknown'
    END AS citizenship,
    CASE d.pi WHEN 2 THEN 'yes' WHEN 1 THEN 'no' ELSE 'unknown' END AS physical_illness,
    CASE d.mit WHEN 2 THEN 'yes' WHEN 1 THEN 'no' ELSE 'unknown' END AS mental_illness_treated,
    CASE d.st WHEN 2 THEN 'yes' WHEN 1 THEN 'no' ELSE 'unknown' END AS substance_treated,
    CASE WHEN d.causes <> '' THEN d.causes ELSE 'unknown' END AS causes
-- (situations first: the small table is the one the join builds in memory.)
FROM situations AS s
JOIN deciding AS d ON d.situation = s.situation
ORDER BY d.person_key
