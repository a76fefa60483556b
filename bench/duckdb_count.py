"""The count in DuckDB: the peer of `hcount run` in bench/run.sh.

A simpler version of the count, on the plain (valid UTF-8) generated files: no validation,
no HMAC (person keys are the identifying strings themselves), but the same deduplication,
linking, precedence and exclusion rules as queries/*.sql, and the same outputs that the
benchmark compares: persons and submissions as Parquet (zstd level 3), the national and the
municipal table.

usage: python duckdb_count.py INPUT_DIR OUT_DIR THREADS YEAR
"""
import sys, os, datetime
import duckdb

src, out, threads, year = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
here = os.path.dirname(os.path.abspath(__file__))
# The count date: Wednesday of ISO week 6.
count_date = datetime.date.fromisocalendar(year, 6, 3).isoformat()
os.makedirs(out, exist_ok=True)

con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute("SET preserve_insertion_order = true")
SITUATIONS = ["rough_sleeping", "night_shelter", "shelter", "hotel", "family_friends",
              "transitional", "makeshift", "prison_release", "hospital_discharge",
              "functional", "other", "unknown"]
con.execute("CREATE TABLE situations(situation VARCHAR, rank INT)")
con.executemany("INSERT INTO situations VALUES (?, ?)",
                [(s, i + 1) for i, s in enumerate(SITUATIONS)] + [("not_homeless", 99)])
con.execute(f"""CREATE TABLE municipalities AS
    SELECT lpad(code::VARCHAR, 3, '0') AS code, name
    FROM read_csv('{here}/../data/municipalities.csv', header = true)""")

# Line numbers from the order the rows were stored in (insertion order is kept, above: a
# row's rowid less its file's first rowid). A `row_number() OVER (PARTITION BY filename)`
# without an ORDER BY numbered a file's rows in whatever order its threads met them, and
# now and then a person's first report (ranked by file and line) was another row than
# hcount's: one person more or less in a table, and the benchmark refused to time it
# (2026-12-06). This costs DuckDB about 1 s of its 14 at 1M rows.
con.execute(f"""
CREATE TABLE raw0 AS
SELECT * FROM read_csv('{src}/*.csv', header = true, all_varchar = true, filename = true,
                       delim = ',', quote = '"')
""")
con.execute("""
CREATE VIEW raw AS
SELECT raw0.*, raw0.rowid - f.first + 2 AS line
FROM raw0 JOIN (SELECT filename, min(rowid) AS first FROM raw0 GROUP BY filename) f
  USING (filename)
""")

con.execute(f"""
CREATE TABLE r AS
WITH a AS (
  SELECT *, replace(trim(cpr), '-', '') AS c,
         nullif(upper(replace(replace(trim(initials), '.', ''), ' ', '')), '') AS ini,
         CASE WHEN lower(trim(sex)) IN ('m', 'mand', 'male') THEN 'm'
              WHEN lower(trim(sex)) IN ('k', 'kvinde', 'f', 'female') THEN 'k' END AS sx,
         try_cast(trim(birth_date) AS DATE) AS bd
  FROM raw
), b AS (
  SELECT *, coalesce(regexp_full_match(c, '[0-9]{{10}}'), false) AS is_cpr,
         coalesce(regexp_full_match(c, '[0-9]{{7}}[A-Za-z]{{2}}[0-9]'), false) AS is_ecpr
  FROM a
), c AS (
  SELECT *,
    CASE WHEN is_cpr THEN make_date(
      CASE WHEN substr(c, 7, 1)::INT <= 3 THEN 1900
           WHEN substr(c, 7, 1)::INT IN (4, 9) THEN CASE WHEN substr(c, 5, 2)::INT <= 36 THEN 2000 ELSE 1900 END
           ELSE CASE WHEN substr(c, 5, 2)::INT <= 57 THEN 2000 ELSE 1800 END END
      + substr(c, 5, 2)::INT, substr(c, 3, 2)::INT, substr(c, 1, 2)::INT) END AS cpr_birth,
    CASE WHEN is_cpr THEN CASE WHEN substr(c, 10, 1)::INT % 2 = 1 THEN 'm' ELSE 'k' END END AS cpr_sex
  FROM b
)
SELECT *,
  CASE WHEN is_cpr AND ini IS NOT NULL THEN strftime(cpr_birth, '%Y%m%d') || ':' || cpr_sex || ':' || ini
       WHEN NOT is_cpr AND bd IS NOT NULL AND sx IS NOT NULL AND ini IS NOT NULL
         THEN strftime(bd, '%Y%m%d') || ':' || sx || ':' || ini END AS alt
FROM c
""")

# Linking: an alternative key owned by exactly one CPR person.
con.execute("""
CREATE TABLE owners AS
SELECT alt, min(c) AS owner FROM r WHERE is_cpr AND alt IS NOT NULL
GROUP BY alt HAVING count(DISTINCT c) = 1
""")

con.execute("""
CREATE TABLE s AS
SELECT r.*, coalesce(st.rank, 12) AS rank,
  CASE WHEN is_cpr THEN 'cpr:' || c
       WHEN o.owner IS NOT NULL THEN 'cpr:' || o.owner
       WHEN is_ecpr THEN 'ecpr:' || upper(c)
       WHEN r.alt IS NOT NULL THEN 'alt:' || r.alt
       ELSE 'row:' || filename || ':' || line END AS person_key
FROM r
LEFT JOIN owners o ON NOT r.is_cpr AND o.alt = r.alt
LEFT JOIN situations st ON st.situation = lower(trim(r.situation))
""")

con.execute(f"""
CREATE TABLE persons AS
WITH ranked AS (
  SELECT *, row_number() OVER (PARTITION BY person_key
                               ORDER BY rank, respondent_id, filename, line) AS k,
         max(cpr_birth) OVER (PARTITION BY person_key) AS p_cpr_birth,
         max(cpr_sex) OVER (PARTITION BY person_key) AS p_cpr_sex,
         count(*) OVER (PARTITION BY person_key) AS reports
  FROM s
), d AS (
  SELECT person_key, lower(trim(situation)) AS situation,
    CASE WHEN trim(home_municipality) IN (SELECT code FROM municipalities)
         THEN trim(home_municipality) ELSE trim(municipality) END AS municipality,
    trim(municipality) AS stay_municipality,
    coalesce(nullif(lower(trim(residence)), ''), 'permanent') AS residence,
    coalesce(p_cpr_birth, bd) AS birth_date,
    coalesce(p_cpr_sex, sx) AS sex,
    reports
  FROM ranked WHERE k = 1
), e AS (
  SELECT *, year(DATE '{count_date}') - year(birth_date)
     - CASE WHEN (month(birth_date), day(birth_date)) > (month(DATE '{count_date}'), day(DATE '{count_date}'))
            THEN 1 ELSE 0 END AS age
  FROM d
)
SELECT *, situation <> 'not_homeless' AND residence <> 'no_permanent'
          AND (age IS NULL OR age >= 18) AS counted
FROM e
""")

con.execute(f"COPY (SELECT * EXCLUDE (rank) FROM s ORDER BY person_key, filename, line) TO '{out}/submissions.parquet' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 3)")
con.execute(f"COPY (SELECT * FROM persons ORDER BY person_key) TO '{out}/persons.parquet' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 3)")
con.execute(f"""COPY (
  SELECT situation, persons FROM (
    SELECT st.situation, st.rank, count(p.person_key) AS persons
    FROM situations st LEFT JOIN persons p ON p.situation = st.situation AND p.counted
    WHERE st.rank < 99 GROUP BY st.situation, st.rank
    UNION ALL SELECT 'total', 100, count(*) FROM persons WHERE counted)
  ORDER BY rank) TO '{out}/national_by_category.csv' (HEADER, DELIMITER ',')""")
con.execute(f"""COPY (
  SELECT m.code AS municipality, m.name AS municipality_name, count(p.person_key) AS persons
  FROM municipalities m LEFT JOIN persons p ON p.municipality = m.code AND p.counted
  GROUP BY m.code, m.name ORDER BY m.code) TO '{out}/municipal_totals.csv' (HEADER, DELIMITER ',')""")
