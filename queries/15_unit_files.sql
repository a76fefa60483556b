-- Every (reporting unit, file) pair, numbered in the tie-break order of categories.md
-- (respondent_id, then file name). A count has a few thousand pairs; 20_submissions.sql
-- turns the number into each row's `row_order`. (Its own relation, computed once, so that
-- joining it to the rows is a lookup in a small table rather than a shuffle of every row.)
SELECT respondent_id, source_file,
       ROW_NUMBER() OVER (ORDER BY respondent_id, source_file) AS unit_file
FROM (SELECT DISTINCT respondent_id, source_file FROM staging) AS pairs
