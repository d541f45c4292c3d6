#!/usr/bin/env python3
"""Reference pass for `truongso bench results`: the bulk of the TT 22/2021 learning-level
computation over the same marks, in DuckDB, in memory.

    pip install duckdb            # not a project dependency; only for this benchmark
    python3 scripts/bench_duckdb.py --sqlite data/demo.db [--school-year 2025-2026]
    python3 scripts/bench_duckdb.py --postgres postgres://postgres@127.0.0.1:5432/db

The marks rows (one per learner x subject x year, a JSON `cells` column
`{"term.slot": [value, version]}`, values in tenths) of lower and upper secondary classes of that
school year, score subjects only, are exported with the `sqlite3` or `psql` command-line client
to a CSV file, loaded into an in-memory DuckDB table, and then, per learner x subject:

  semester average (tenths) = floor((2N + d) / (2d)),  N = sum(tx, cd) + 2 gk + 3 ck,
                                                       d = count(tx, cd) + 5
  year average (tenths)     = floor((2(a + 2b) + 3) / 6)   (a, b: semester I, II)

and per learner the number of subjects at >= 8.0, >= 6.5 and >= 5.0 and the lowest year average,
which is what the learning level of TT 22 Điều 9 is read from. Not included (all of which
`compute_year` does): comment subjects (Đạt / Chưa đạt), primary classes (TT 27), summer
re-tests, conduct, absences, the level / decision / award rules themselves, the per-learner
JSON snapshot, comparing with and writing `year_results`, and the audit events.

Times are printed separately for the export, the load (CSV -> table, JSON -> cells) and the
computation; "DuckDB pass" is load + computation (the export is the database's, not DuckDB's).
With --check the year averages are compared with those `compute_year` stored in `year_results`.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time

# Secondary subjects assessed by comment (Đạt / Chưa đạt): curriculum_2018.toml, mode "comment".
COMMENT_SUBJECTS = ("gdtc", "nghe_thuat", "hdtn", "gddp", "am_nhac", "mi_thuat")


def lid(args, col):
    """A learner id as text: SQLite stores UUIDs as 16-byte blobs."""
    return f"hex({col})" if args.sqlite else f"{col}::text"


def export_query(args, year):
    comment = ", ".join(f"'{s}'" for s in COMMENT_SUBJECTS)
    return (
        f"SELECT {lid(args, 'm.learner_id')} AS learner_id, m.subject, m.cells FROM marks m "
        "JOIN classes c ON c.id = m.class_id "
        "JOIN school_years y ON y.id = m.school_year_id "
        f"WHERE y.name = '{year}' AND c.grade BETWEEN 6 AND 12 "
        f"AND m.subject NOT IN ({comment})"
    )


def results_query(args, year):
    return (
        f"SELECT {lid(args, 'r.learner_id')} AS learner_id, r.data FROM year_results r "
        "JOIN school_years y ON y.id = r.school_year_id "
        f"WHERE y.name = '{year}' AND r.learning IS NOT NULL"
    )


def export(args, query, path):
    if args.sqlite:
        with open(path, "w") as out:
            subprocess.run(
                ["sqlite3", "-readonly", "-csv", "-header", args.sqlite, query],
                stdout=out,
                check=True,
            )
    else:
        subprocess.run(
            ["psql", args.postgres, "-q", "-c", f"\\copy ({query}) TO '{path}' CSV HEADER"],
            check=True,
        )


COMPUTE = """
CREATE OR REPLACE TEMP TABLE averages AS
WITH t AS (
    SELECT learner_id, subject, term,
           sum(v) FILTER (WHERE slot LIKE 'tx%' OR slot LIKE 'cd%') AS n_tx,
           count(v) FILTER (WHERE slot LIKE 'tx%' OR slot LIKE 'cd%') AS c_tx,
           max(v) FILTER (WHERE slot = 'gk') AS gk,
           max(v) FILTER (WHERE slot = 'ck') AS ck
    FROM cells
    WHERE term IN (1, 2) AND v IS NOT NULL
    GROUP BY ALL
), s AS (
    SELECT learner_id, subject, term,
           (2 * (n_tx + 2 * gk + 3 * ck) + (c_tx + 5)) // (2 * (c_tx + 5)) AS avg
    FROM t
    WHERE c_tx > 0 AND gk IS NOT NULL AND ck IS NOT NULL
)
SELECT learner_id, subject,
       (2 * (max(avg) FILTER (WHERE term = 1) + 2 * max(avg) FILTER (WHERE term = 2)) + 3) // 6
           AS year
FROM s
GROUP BY ALL
HAVING count(*) = 2;

CREATE OR REPLACE TEMP TABLE learners AS
SELECT learner_id,
       count(*) AS subjects,
       count(*) FILTER (WHERE year >= 80) AS at_80,
       count(*) FILTER (WHERE year >= 65) AS at_65,
       count(*) FILTER (WHERE year >= 50) AS at_50,
       min(year) AS lowest
FROM averages
GROUP BY ALL;
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--sqlite", help="the SQLite database file")
    src.add_argument("--postgres", help="a PostgreSQL URL (psql)")
    ap.add_argument("--school-year", default="2025-2026")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (default: all cores)")
    ap.add_argument("--check", action="store_true", help="compare with the stored year results")
    ap.add_argument("--keep", help="keep the exported CSV at this path")
    args = ap.parse_args()

    import duckdb

    tmp = tempfile.mkdtemp(prefix="bench-duckdb-")
    path = args.keep or os.path.join(tmp, "marks.csv")
    t0 = time.perf_counter()
    export(args, export_query(args, args.school_year), path)
    t_export = time.perf_counter() - t0
    size = os.path.getsize(path)

    con = duckdb.connect(":memory:")
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]

    t0 = time.perf_counter()
    con.execute(
        "CREATE TEMP TABLE marks AS SELECT * FROM read_csv(?, header = true, "
        "columns = {'learner_id': 'VARCHAR', 'subject': 'VARCHAR', 'cells': 'VARCHAR'})",
        [path],
    )
    con.execute(
        """
        CREATE TEMP TABLE cells AS
        SELECT learner_id, subject,
               CAST(split_part(e.key, '.', 1) AS INTEGER) AS term,
               split_part(e.key, '.', 2) AS slot,
               e.value[1] AS v
        FROM (SELECT learner_id, subject,
                     unnest(map_entries(CAST(cells::JSON AS MAP(VARCHAR, INTEGER[])))) AS e
              FROM marks)
        """
    )
    t_load = time.perf_counter() - t0
    rows = con.execute("SELECT count(*) FROM marks").fetchone()[0]
    n_cells = con.execute("SELECT count(*) FROM cells").fetchone()[0]

    t0 = time.perf_counter()
    con.execute(COMPUTE)
    summary = con.execute(
        "SELECT count(*), sum(subjects), sum(CASE WHEN at_65 = subjects AND at_80 >= 6 "
        "AND lowest >= 65 THEN 1 ELSE 0 END), min(lowest), avg(lowest) FROM learners"
    ).fetchone()
    t_compute = time.perf_counter() - t0

    learners, subjects, good, worst, mean_low = summary
    print(f"school year {args.school_year}, DuckDB {duckdb.__version__}, {threads} threads")
    print(f"export: {rows} marks rows (score subjects, grades 6-12), {size / 2**20:.1f} MiB CSV, "
          f"{t_export:.2f} s ({'sqlite3' if args.sqlite else 'psql'})")
    print(f"load: CSV -> table, JSON -> {n_cells} cells: {t_load:.2f} s")
    print(f"compute: {subjects} subject year averages of {learners} learners, "
          f"counts at 8.0 / 6.5 / 5.0 and the lowest: {t_compute:.3f} s")
    print(f"DuckDB pass (load + compute): {t_load + t_compute:.2f} s, "
          f"{learners / (t_load + t_compute):.0f} learners/s; compute alone "
          f"{learners / t_compute:.0f} learners/s")
    print(f"(sanity: learners with every subject >= 6.5 and six >= 8.0: {good}; "
          f"lowest year average {worst / 10:.1f}, mean of the per-learner lowest "
          f"{mean_low / 10:.2f})")

    if args.check:
        rpath = os.path.join(tmp, "results.csv")
        export(args, results_query(args, args.school_year), rpath)
        con.execute(
            """
            CREATE TEMP TABLE stored AS
            SELECT learner_id, s.subject AS subject,
                   CAST(round(TRY_CAST(s."year" AS DOUBLE) * 10) AS INTEGER) AS year
            FROM (SELECT learner_id,
                         unnest(json_transform(json_extract(data, '$.secondary.subjects'),
                                               '[{"subject": "VARCHAR", "year": "VARCHAR"}]')) AS s
                  FROM read_csv(?, header = true, max_line_size = 10000000,
                                columns = {'learner_id': 'VARCHAR', 'data': 'VARCHAR'}))
            """,
            [rpath],
        )
        compared, differ = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE a.year <> s.year) FROM averages a "
            "JOIN stored s USING (learner_id, subject)"
        ).fetchone()
        print(f"check: {compared} subject year averages compared with year_results, {differ} differ")
        if differ:
            print(con.execute(
                "SELECT a.learner_id, a.subject, a.year, s.year FROM averages a "
                "JOIN stored s USING (learner_id, subject) WHERE a.year <> s.year LIMIT 5"
            ).fetchall())
            sys.exit(1)

    if not args.keep:
        os.remove(path)


if __name__ == "__main__":
    main()
