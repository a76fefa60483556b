"""The count in Polars: the peer of `hcount run` in bench/run.sh.

The same simplified count as duckdb_count.py (no validation, no HMAC; the same
deduplication, linking, precedence and exclusion rules; persons and submissions as Parquet,
zstd level 3; the national and the municipal table), in Polars' lazy API.

usage: POLARS_MAX_THREADS=N python polars_count.py INPUT_DIR OUT_DIR THREADS YEAR
"""
import sys, os, datetime
import polars as pl

src, out, threads, year = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
assert pl.thread_pool_size() == threads, "set POLARS_MAX_THREADS before starting Python"
here = os.path.dirname(os.path.abspath(__file__))
count_date = datetime.date.fromisocalendar(year, 6, 3)
os.makedirs(out, exist_ok=True)

SITUATIONS = ["rough_sleeping", "night_shelter", "shelter", "hotel", "family_friends",
              "transitional", "makeshift", "prison_release", "hospital_discharge",
              "functional", "other", "unknown"]
situations = pl.DataFrame({"situation": SITUATIONS + ["not_homeless"],
                           "rank": list(range(1, 13)) + [99]},
                          schema={"situation": pl.String, "rank": pl.Int32})
municipalities = pl.read_csv(f"{here}/../data/municipalities.csv", infer_schema=False).select(
    pl.col("code").str.zfill(3), pl.col("name"))
codes = municipalities["code"]

raw = (pl.scan_csv(f"{src}/*.csv", infer_schema=False, include_file_paths="filename")
       .with_columns((pl.int_range(pl.len()).over("filename") + 2).alias("line")))

t = lambda c: pl.col(c).str.strip_chars()
c = t("cpr").str.replace_all("-", "")
d = lambda a, n: pl.col("c").str.slice(a, n).cast(pl.Int32)
r = (raw.with_columns(
        c.alias("c"),
        pl.when(t("initials").str.replace_all(r"[. ]", "") != "")
          .then(t("initials").str.replace_all(r"[. ]", "").str.to_uppercase()).alias("ini"),
        pl.when(t("sex").str.to_lowercase().is_in(["m", "mand", "male"])).then(pl.lit("m"))
          .when(t("sex").str.to_lowercase().is_in(["k", "kvinde", "f", "female"])).then(pl.lit("k"))
          .alias("sx"),
        t("birth_date").str.to_date("%Y-%m-%d", strict=False).alias("bd"))
     .with_columns(
        pl.col("c").str.contains(r"^[0-9]{10}$").fill_null(False).alias("is_cpr"),
        pl.col("c").str.contains(r"^[0-9]{7}[A-Za-z]{2}[0-9]$").fill_null(False).alias("is_ecpr"))
     .with_columns(
        pl.when(pl.col("is_cpr")).then(pl.date(
            pl.when(d(6, 1) <= 3).then(1900)
              .when(d(6, 1).is_in([4, 9])).then(pl.when(d(4, 2) <= 36).then(2000).otherwise(1900))
              .otherwise(pl.when(d(4, 2) <= 57).then(2000).otherwise(1800)) + d(4, 2),
            d(2, 2), d(0, 2))).alias("cpr_birth"),
        pl.when(pl.col("is_cpr")).then(
            pl.when(d(9, 1) % 2 == 1).then(pl.lit("m")).otherwise(pl.lit("k"))).alias("cpr_sex"))
     .with_columns(
        pl.when(pl.col("is_cpr") & pl.col("ini").is_not_null())
          .then(pl.concat_str([pl.col("cpr_birth").dt.strftime("%Y%m%d"), pl.col("cpr_sex"), pl.col("ini")], separator=":"))
          .when(~pl.col("is_cpr") & pl.col("bd").is_not_null() & pl.col("sx").is_not_null() & pl.col("ini").is_not_null())
          .then(pl.concat_str([pl.col("bd").dt.strftime("%Y%m%d"), pl.col("sx"), pl.col("ini")], separator=":"))
          .alias("alt")))

# Linking: an alternative key owned by exactly one CPR person.
owners = (r.filter(pl.col("is_cpr") & pl.col("alt").is_not_null())
          .group_by("alt").agg(pl.col("c").n_unique().alias("n"), pl.col("c").min().alias("owner"))
          .filter(pl.col("n") == 1).select("alt", "owner"))

s = (r.join(owners, on="alt", how="left")
      .join(situations.lazy(), left_on=t("situation").str.to_lowercase(), right_on="situation",
            how="left", coalesce=False)
      .with_columns(
        pl.col("rank").fill_null(12),
        pl.when(pl.col("is_cpr")).then(pl.lit("cpr:") + pl.col("c"))
          .when(pl.col("owner").is_not_null()).then(pl.lit("cpr:") + pl.col("owner"))
          .when(pl.col("is_ecpr")).then(pl.lit("ecpr:") + pl.col("c").str.to_uppercase())
          .when(pl.col("alt").is_not_null()).then(pl.lit("alt:") + pl.col("alt"))
          .otherwise(pl.concat_str([pl.lit("row"), pl.col("filename"), pl.col("line").cast(pl.String)], separator=":"))
          .alias("person_key"))
      .drop("situation_right", strict=False)
      .collect())

home = t("home_municipality")
decided = (s.lazy()
    .sort(["person_key", "rank", "respondent_id", "filename", "line"])
    .group_by("person_key", maintain_order=False)
    .agg(pl.col("situation").first().str.strip_chars().str.to_lowercase(),
         pl.when(home.is_in(codes.implode())).then(home).otherwise(t("municipality")).first().alias("municipality"),
         t("municipality").first().alias("stay_municipality"),
         pl.col("residence").first().str.strip_chars().str.to_lowercase().alias("residence"),
         pl.col("cpr_birth").max().fill_null(pl.col("bd").first()).alias("birth_date"),
         pl.col("cpr_sex").max().fill_null(pl.col("sx").first()).alias("sex"),
         pl.len().alias("reports")))
cd = pl.lit(count_date)
persons = (decided
    .with_columns(pl.col("residence").fill_null("permanent"),
        (cd.dt.year() - pl.col("birth_date").dt.year()
         - ((pl.col("birth_date").dt.month() > count_date.month)
            | ((pl.col("birth_date").dt.month() == count_date.month)
               & (pl.col("birth_date").dt.day() > count_date.day))).cast(pl.Int32)).alias("age"))
    .with_columns(((pl.col("situation") != "not_homeless") & (pl.col("residence") != "no_permanent")
                   & (pl.col("age").is_null() | (pl.col("age") >= 18))).alias("counted"))
    .sort("person_key")
    .collect())

s.sort(["person_key", "filename", "line"]).write_parquet(f"{out}/submissions.parquet", compression="zstd", compression_level=3)
persons.write_parquet(f"{out}/persons.parquet", compression="zstd", compression_level=3)
counted = persons.filter(pl.col("counted"))
nat = (situations.filter(pl.col("rank") < 99)
       .join(counted.group_by("situation").len(), on="situation", how="left")
       .sort("rank").select("situation", pl.col("len").fill_null(0).alias("persons")))
nat = pl.concat([nat, pl.DataFrame({"situation": ["total"], "persons": [counted.height]},
                                   schema=nat.schema)])
nat.write_csv(f"{out}/national_by_category.csv")
(municipalities.join(counted.group_by("municipality").len(), left_on="code", right_on="municipality", how="left")
 .sort("code").select(pl.col("code").alias("municipality"), pl.col("name").alias("municipality_name"),
                      pl.col("len").fill_null(0).alias("persons"))
 .write_csv(f"{out}/municipal_totals.csv"))
