-- One row per person (categories.md, classification).
-- The DECIDING ROW is the person's row with the best (lowest) situation rank; ties are
-- broken by respondent_id, then file name, then line number, all ascending. Situation,
-- municipality, residence, duration, income, children, birth date and sex come from it.
-- Across all the person's rows: mental illness, housing queue and action plan are `yes` if
-- any row says yes, else `no` if any says no, else `unknown`; substances and support are the
-- union of what the rows name (`none` only when no row names one and some row says none).
WITH ranked AS (
    SELECT
        u.*,
        s.homeless,
        ROW_NUMBER() OVER (
            PARTITION BY u.person_key
            ORDER BY s.rank, u.respondent_id, u.source_file, u.source_line
        ) AS row_rank
    FROM submissions AS u
    JOIN situations AS s ON s.situation = u.situation
),
-- Per person and reporting unit first, then per person: two plain aggregations, because a
-- COUNT(DISTINCT respondent_id) per person keeps a hash set per person (slow and large).
per_unit AS (
    SELECT
        person_key,
        respondent_id,
        COUNT(*) AS reports,
        MAX(CASE mental_illness WHEN 'yes' THEN 2 WHEN 'no' THEN 1 ELSE 0 END) AS mental_illness,
        MAX(CASE housing_queue  WHEN 'yes' THEN 2 WHEN 'no' THEN 1 ELSE 0 END) AS housing_queue,
        MAX(CASE action_plan    WHEN 'yes' THEN 2 WHEN 'no' THEN 1 ELSE 0 END) AS action_plan,
        bool_or(concat('|', substance_abuse, '|') LIKE '%|alcohol|%')    AS alcohol,
        bool_or(concat('|', substance_abuse, '|') LIKE '%|cannabis|%')   AS cannabis,
        bool_or(concat('|', substance_abuse, '|') LIKE '%|hard_drugs|%') AS hard_drugs,
        bool_or(concat('|', substance_abuse, '|') LIKE '%|medication|%') AS medication,
        bool_or(concat('|', substance_abuse, '|') LIKE '%|other|%')      AS substance_other,
        bool_or(substance_abuse = 'none')                                AS substance_none,
        bool_or(concat('|', support, '|') LIKE '%|act|%')                AS act,
        bool_or(concat('|', support, '|') LIKE '%|icm|%')                AS icm,
        bool_or(concat('|', support, '|') LIKE '%|cti|%')                AS cti,
        bool_or(concat('|', support, '|') LIKE '%|social_caretaker|%')   AS social_caretaker,
        bool_or(concat('|', support, '|') LIKE '%|other|%')              AS support_other,
        bool_or(support = 'none')                                        AS support_none
    FROM submissions
    GROUP BY person_key, respondent_id
),
across_rows AS (
    SELECT
        person_key,
        SUM(reports) AS reports,
        COUNT(*) AS respondents,
        MAX(mental_illness) AS mental_illness,
        MAX(housing_queue) AS housing_queue,
        MAX(action_plan) AS action_plan,
        bool_or(alcohol) AS alcohol,
        bool_or(cannabis) AS cannabis,
        bool_or(hard_drugs) AS hard_drugs,
        bool_or(medication) AS medication,
        bool_or(substance_other) AS substance_other,
        bool_or(substance_none) AS substance_none,
        bool_or(act) AS act,
        bool_or(icm) AS icm,
        bool_or(cti) AS cti,
        bool_or(social_caretaker) AS social_caretaker,
        bool_or(support_other) AS support_other,
        bool_or(support_none) AS support_none
    FROM per_unit
    GROUP BY person_key
),
joined AS (
    SELECT
        d.*,
        a.reports,
        a.respondents,
        a.mental_illness AS mi,
        a.housing_queue AS hq,
        a.action_plan AS ap,
        concat_ws('|',
            CASE WHEN a.alcohol THEN 'alcohol' END,
            CASE WHEN a.cannabis THEN 'cannabis' END,
            CASE WHEN a.hard_drugs THEN 'hard_drugs' END,
            CASE WHEN a.medication THEN 'medication' END,
            CASE WHEN a.substance_other THEN 'other' END) AS substances,
        a.substance_none,
        concat_ws('|',
            CASE WHEN a.act THEN 'act' END,
            CASE WHEN a.icm THEN 'icm' END,
            CASE WHEN a.cti THEN 'cti' END,
            CASE WHEN a.social_caretaker THEN 'social_caretaker' END,
            CASE WHEN a.support_other THEN 'other' END) AS supports,
        a.support_none
    FROM ranked AS d
    JOIN across_rows AS a ON a.person_key = d.person_key
    WHERE d.row_rank = 1
)
SELECT
    person_key,
    situation,
    COALESCE(home_municipality, municipality) AS municipality,
    municipality AS stay_municipality,
    residence,
    CASE WHEN supports <> '' THEN supports WHEN support_none THEN 'none' ELSE 'unknown' END AS support,
    CASE hq WHEN 2 THEN 'yes' WHEN 1 THEN 'no' ELSE 'unknown' END AS housing_queue,
    CASE ap WHEN 2 THEN 'yes' WHEN 1 THEN 'no' ELSE 'unknown' END AS action_plan,
    COALESCE(sex, 'unknown') AS sex,
    birth_date,
    age,
    CASE
        WHEN age IS NULL THEN 'unknown'
        WHEN age < 18 THEN '0-17'
        WHEN age < 25 THEN '18-24'
        WHEN age < 30 THEN '25-29'
        WHEN age < 40 THEN '30-39'
        WHEN age < 50 THEN '40-49'
        WHEN age < 60 THEN '50-59'
        ELSE '60+'
    END AS age_group,
    COALESCE(duration, 'unknown') AS duration,
    CASE mi WHEN 2 THEN 'yes' WHEN 1 THEN 'no' ELSE 'unknown' END AS mental_illness,
    CASE WHEN substances <> '' THEN substances WHEN substance_none THEN 'none' ELSE 'unknown' END AS substance_abuse,
    COALESCE(income, 'unknown') AS income,
    children,
    reports,
    respondents,
    id_kind,
    -- Counted: a homelessness situation, not a migrant without permanent residence, not a
    -- child (unknown age is counted).
    (homeless AND residence <> 'no_permanent' AND (age IS NULL OR age >= 18)) AS counted
FROM joined
ORDER BY person_key
