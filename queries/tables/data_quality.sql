-- Data quality of the count (for the report's data-quality section): how rows were
-- identified and how persons were found. Rows are accepted rows; persons are after
-- deduplication.
SELECT metric, value FROM (
    SELECT 1 AS ord, 'rows_accepted' AS metric, COUNT(*) AS value FROM submissions
    UNION ALL
    SELECT 2, 'rows_identified_by_cpr', COUNT(*) FROM submissions WHERE id_kind = 'cpr' AND NOT linked
    UNION ALL
    SELECT 3, 'rows_linked_to_cpr_by_alternative_key', COUNT(*) FROM submissions WHERE linked
    UNION ALL
    SELECT 4, 'rows_identified_by_replacement_number', COUNT(*) FROM submissions WHERE id_kind = 'ecpr'
    UNION ALL
    SELECT 5, 'rows_identified_by_alternative_key', COUNT(*) FROM submissions WHERE id_kind = 'alt'
    UNION ALL
    SELECT 6, 'rows_unidentified', COUNT(*) FROM submissions WHERE id_kind = 'unidentified'
    UNION ALL
    SELECT 7, 'persons', COUNT(*) FROM persons
    UNION ALL
    SELECT 8, 'persons_counted', COUNT(*) FROM persons WHERE counted
    UNION ALL
    SELECT 9, 'persons_counted_reported_by_several_units', COUNT(*) FROM persons WHERE counted AND respondents > 1
    UNION ALL
    SELECT 10, 'persons_not_homeless', COUNT(*) FROM persons WHERE situation = 'not_homeless'
    UNION ALL
    SELECT 11, 'persons_migrants_no_permanent_residence', COUNT(*)
    FROM persons WHERE situation <> 'not_homeless' AND residence = 'no_permanent'
    UNION ALL
    SELECT 12, 'persons_under_18', COUNT(*)
    FROM persons WHERE situation <> 'not_homeless' AND residence <> 'no_permanent' AND age < 18
)
ORDER BY ord
