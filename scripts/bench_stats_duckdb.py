#!/usr/bin/env python3
"""Reference pass for `truongso bench stats`: a named part of Biểu 02.ĐN-TH (primary, beginning of
year, as at 30/9) computed with SQL in DuckDB over an export of the same tables.

    pip install duckdb            # not a project dependency; only for this benchmark
    truongso bench stats --json /tmp/totals.json …      # our figures and province totals
    python3 scripts/bench_stats_duckdb.py --postgres postgres://postgres@127.0.0.1:5432/db \\
        --totals /tmp/totals.json --check [--data-key-file ./data/data.key]
    python3 scripts/bench_stats_duckdb.py --sqlite data/demo.db --totals /tmp/totals.json --check

Exported with the `sqlite3` / `psql \\copy` clients to CSV, restricted as the Rust loader
(crates/store/src/stats/facts.rs) restricts them: the schools of the unit's subtree in existence
on 30/9, their profiles and school years of the start year, those years' classes, every
enrolment (this year's and earlier) of the learners enrolled in them, those learners, their
status history up to 30/9, the schools' working staff and rooms. The disability type is
encrypted at rest (AES-256-GCM bound to `learners.disability:<id>`): the script decrypts the
few non-empty values with the data key before DuckDB sees them, timed apart ("decrypt").

DuckDB then builds, per learner, the same facts the loader does (class on 30/9 from the
enrolment history, status on 30/9 from the status history, on the roll, last year's grade,
repeater, new entrant, age in calendar years, minority, disability, boarding, policy) and fills
Biểu 02.ĐN-TH (TT 25/2024 copy of TT 24/2018):

  II  classes: rows 27-36 (by grade, two sessions, boarding at PTDT bán trú, special schools,
      multigrade) x Tổng số / Công lập / Tư thục
  III pupils: rows 37-74 and 76 (region band, grade, age, on-age, new entrants, repeaters,
      two sessions, boarding minorities, inclusive and special-school disability by type,
      informatics, policy, very small ethnic groups) x 3 ownership groups x Tổng / Nữ / DTTS /
      DTTS nữ = 12 columns
  IV  staff: rows 78-118 (managers, principals and vice-principals by qualification and region,
      teachers by qualification and age band, support staff by position) x 15 columns
      (sex, minority, public by contract, private)
  V   rooms: rows 120-132 (classrooms, learning-support rooms by kind) x 3 ownership groups x
      build quality

Not computed here (all of which `unit_forms` does): section I (schools: region x class count,
national standard, facilities, sites, disabled-pupil bands), the other three beginning-of-year
forms (01.ĐN-MN, 03.ĐN-THCS, 04.ĐN-THPT), the end-of-year forms and their results, per-school
values, grouping and traces.

With --check every cell of those sections is compared with the province totals that
`bench stats --json` wrote (the `unit_forms` totals of form tt25-2024/02-th-dn).
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time

FORM_ID = "tt25-2024/02-th-dn"
ON_ROLL = ("01", "02", "03", "06", "07", "10")
WORKING_STAFF = ("01", "04", "07")
TEACHER_GROUPS = ("03", "06", "10")
VERY_SMALL = ("11", "39", "41", "42", "43", "44", "45", "46", "47", "48", "49", "50", "51", "52",
              "53", "54")
SPECIAL = ("04", "18")


def q(values):
    return ", ".join(f"'{v}'" for v in values)


class Source:
    """Runs a query on the database and writes CSV."""

    def __init__(self, args):
        self.args = args

    def id(self, col):
        # SQLite keeps UUIDs as 16-byte blobs; PostgreSQL as uuid.
        return f"lower(hex({col}))" if self.args.sqlite else f"replace({col}::text, '-', '')"

    def boolean(self, col):
        return f"({col} <> 0)" if self.args.sqlite else col

    def export(self, query, path):
        if self.args.sqlite:
            with open(path, "w") as out:
                subprocess.run(["sqlite3", "-readonly", "-csv", "-header", self.args.sqlite, query],
                               stdout=out, check=True)
        else:
            subprocess.run(["psql", self.args.postgres, "-q", "-v", "ON_ERROR_STOP=1", "-c",
                            f"\\copy ({query}) TO '{path}' CSV HEADER"], check=True)

    def scalar(self, query):
        if self.args.sqlite:
            out = subprocess.run(["sqlite3", "-readonly", self.args.sqlite, query],
                                 capture_output=True, text=True, check=True).stdout
        else:
            out = subprocess.run(["psql", self.args.postgres, "-tA", "-c", query],
                                 capture_output=True, text=True, check=True).stdout
        return out.strip()


def exports(src, unit_id, start_year, ref):
    """(name, query) per table, restricted as facts.rs restricts its reads."""
    i = src.id
    if src.args.sqlite:
        root_id = f"X'{unit_id.replace('-', '')}'"
    else:
        root_id = f"'{unit_id}'"
    root_path = src.scalar(f"SELECT path FROM org_units WHERE id = {root_id}")
    if not root_path:
        sys.exit(f"unit {unit_id} not found")
    schools = (f"SELECT id FROM org_units WHERE kind = 'school' AND path LIKE '{root_path}%' "
               f"AND valid_from <= '{ref}' AND (valid_to IS NULL OR valid_to > '{ref}')")
    years = f"SELECT id FROM school_years WHERE start_year = {start_year} AND school_id IN ({schools})"
    year_classes = f"SELECT id FROM classes WHERE school_year_id IN ({years})"
    year_learners = f"SELECT learner_id FROM class_enrolments WHERE class_id IN ({year_classes})"
    return [
        ("schools",
         f"SELECT {i('id')} AS id, levels FROM org_units WHERE id IN ({schools})"),
        ("profiles",
         f"SELECT {i('school_id')} AS school_id, ownership, school_type, region FROM school_profiles "
         f"WHERE school_id IN ({schools})"),
        ("years",
         f"SELECT {i('id')} AS id, {i('school_id')} AS school_id, starts_on FROM school_years "
         f"WHERE id IN ({years})"),
        ("classes",
         f"SELECT {i('id')} AS id, {i('school_id')} AS school_id, grade, "
         f"{src.boolean('multigrade')} AS multigrade, {src.boolean('two_sessions')} AS two_sessions, "
         f"{src.boolean('boarding')} AS boarding FROM classes WHERE school_year_id IN ({years})"),
        ("enrolments",
         f"SELECT {i('learner_id')} AS learner_id, {i('class_id')} AS class_id, from_date, to_date, "
         f"reason FROM class_enrolments WHERE learner_id IN ({year_learners})"),
        # Grades of the classes of earlier enrolments (last year's grade).
        ("other_classes",
         f"SELECT {i('id')} AS id, grade FROM classes WHERE id IN (SELECT class_id FROM "
         f"class_enrolments WHERE learner_id IN ({year_learners})) AND school_year_id NOT IN ({years})"),
        ("learners",
         f"SELECT {i('id')} AS id, date_of_birth, sex, ethnicity, disability_enc, policy_codes, "
         f"boarding, status FROM learners WHERE id IN ({year_learners})"),
        ("statuses",
         f"SELECT {i('learner_id')} AS learner_id, status, on_date, created_at FROM "
         f"learner_status_history WHERE on_date <= '{ref}' AND learner_id IN ({year_learners})"),
        ("staff",
         f"SELECT {i('school_id')} AS school_id, staff_group, position, contract, qualification, sex, "
         f"ethnicity, date_of_birth FROM staff WHERE school_id IN ({schools}) "
         f"AND status IN ({q(WORKING_STAFF)})"),
        ("rooms",
         f"SELECT {i('school_id')} AS school_id, kind, quality FROM rooms WHERE school_id IN ({schools})"),
    ]


TYPES = {
    "schools": {"id": "VARCHAR", "levels": "VARCHAR"},
    "profiles": {"school_id": "VARCHAR", "ownership": "VARCHAR", "school_type": "VARCHAR",
                 "region": "VARCHAR"},
    "years": {"id": "VARCHAR", "school_id": "VARCHAR", "starts_on": "DATE"},
    "classes": {"id": "VARCHAR", "school_id": "VARCHAR", "grade": "INTEGER", "multigrade": "BOOLEAN",
                "two_sessions": "BOOLEAN", "boarding": "BOOLEAN"},
    "enrolments": {"learner_id": "VARCHAR", "class_id": "VARCHAR", "from_date": "DATE",
                   "to_date": "DATE", "reason": "VARCHAR"},
    "other_classes": {"id": "VARCHAR", "grade": "INTEGER"},
    "learners": {"id": "VARCHAR", "date_of_birth": "DATE", "sex": "VARCHAR", "ethnicity": "VARCHAR",
                 "disability_enc": "VARCHAR", "policy_codes": "VARCHAR", "boarding": "VARCHAR",
                 "status": "VARCHAR"},
    "statuses": {"learner_id": "VARCHAR", "status": "VARCHAR", "on_date": "DATE",
                 "created_at": "VARCHAR"},
    "staff": {"school_id": "VARCHAR", "staff_group": "VARCHAR", "position": "VARCHAR",
              "contract": "VARCHAR", "qualification": "VARCHAR", "sex": "VARCHAR",
              "ethnicity": "VARCHAR", "date_of_birth": "DATE"},
    "rooms": {"school_id": "VARCHAR", "kind": "VARCHAR", "quality": "VARCHAR"},
}


def decrypt_disabilities(con, key_file, tmp):
    """learner id -> disability type, decrypted as crypto.rs encrypts: HKDF-SHA256 (salt
    "truongso-field-keys", info "aes-256-gcm") of the 32-byte master key, AES-256-GCM, "v1:" +
    unpadded base64 of nonce || ciphertext, the context as associated data."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = open(key_file).read().strip()
    try:
        master = base64.b64decode(raw, validate=True)
    except ValueError:
        master = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"truongso-field-keys",
               info=b"aes-256-gcm").derive(master)
    aead = AESGCM(key)
    rows = con.execute("SELECT id, disability_enc FROM learners WHERE disability_enc IS NOT NULL "
                       "AND disability_enc <> ''").fetchall()
    out = []
    for lid, enc in rows:
        b = enc[3:]
        blob = base64.b64decode(b + "=" * (-len(b) % 4))
        h = lid.replace("-", "")
        context = f"learners.disability:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        out.append((lid, aead.decrypt(blob[:12], blob[12:], context.encode()).decode()))
    # Row-by-row inserts into DuckDB are slow: hand the pairs over as a file.
    path = os.path.join(tmp, "disability.csv")
    with open(path, "w") as f:
        f.write("learner_id,kind\n")
        f.writelines(f"{lid},{kind}\n" for lid, kind in out)
    con.execute("CREATE TEMP TABLE disability AS SELECT * FROM read_csv(?, header = true, "
                "columns = {'learner_id': 'VARCHAR', 'kind': 'VARCHAR'})", [path])
    os.remove(path)
    return len(out)


FACTS = f"""
-- The schools with their profile (no profile: public, nothing else recorded, as facts.rs).
CREATE OR REPLACE TEMP TABLE sch AS
SELECT s.id, list_contains(string_split(s.levels, '+'), 'TH') AS has_th,
       -- The level staff and rooms are counted at: the school's highest, GDTX aside.
       CASE WHEN list_contains(string_split(s.levels, '+'), 'THPT') THEN 'THPT'
            WHEN list_contains(string_split(s.levels, '+'), 'THCS') THEN 'THCS'
            WHEN list_contains(string_split(s.levels, '+'), 'TH') THEN 'TH'
            WHEN list_contains(string_split(s.levels, '+'), 'MN') THEN 'MN' END AS main_level,
       CASE coalesce(p.ownership, '01') WHEN '01' THEN 'cl' WHEN '03' THEN 'dl' ELSE 'tt' END AS og,
       p.school_type,
       CASE WHEN p.region IN ('04', '05', '06') THEN 'mountain'
            WHEN p.region IS NULL THEN NULL ELSE 'delta' END AS band,
       y.id AS year_id, y.starts_on
FROM schools s LEFT JOIN profiles p ON p.school_id = s.id LEFT JOIN years y ON y.school_id = s.id;

CREATE OR REPLACE TEMP TABLE ycls AS
SELECT c.*, sch.og, sch.school_type, sch.band, sch.has_th, sch.starts_on
FROM classes c JOIN sch ON sch.id = c.school_id;

-- Each learner's enrolments of this year, and the one on the reference date (else the last
-- one begun before it: a learner who left).
CREATE OR REPLACE TEMP TABLE cur AS
WITH e AS (
    SELECT e.*, c.grade, c.school_id, c.two_sessions, c.multigrade, c.starts_on,
           (e.from_date <= DATE '{{ref}}' AND (e.to_date IS NULL OR e.to_date >= DATE '{{ref}}')) AS at_ref
    FROM enrolments e JOIN ycls c ON c.id = e.class_id
    WHERE e.from_date <= DATE '{{ref}}'
)
SELECT * EXCLUDE (rk) FROM (
    SELECT e.*, row_number() OVER (PARTITION BY learner_id ORDER BY at_ref DESC, from_date DESC) AS rk
    FROM e
) WHERE rk = 1;

-- Last year's grade: the latest enrolment begun before this year in a class of another year.
CREATE OR REPLACE TEMP TABLE before_year AS
SELECT learner_id, arg_max(o.grade, e.from_date) AS grade
FROM enrolments e JOIN other_classes o ON o.id = e.class_id
JOIN cur USING (learner_id)
WHERE e.from_date < cur.starts_on
GROUP BY learner_id;

CREATE OR REPLACE TEMP TABLE status_now AS
SELECT learner_id, arg_max(status, (on_date, created_at)) AS status
FROM statuses GROUP BY learner_id;

CREATE OR REPLACE TEMP TABLE lf AS
SELECT l.id, cur.grade, cur.school_id, sch.og, sch.school_type, sch.band, sch.has_th,
       l.sex = 'female' AS female,
       (l.ethnicity IS NOT NULL AND l.ethnicity BETWEEN '02' AND '54' AND length(l.ethnicity) = 2)
           AS minority,
       l.ethnicity,
       {{start_year}} - year(l.date_of_birth) AS age,
       d.kind AS disability,
       l.boarding IS NOT NULL AS boards,
       cur.two_sessions,
       coalesce(len(list_filter(string_split(l.policy_codes, ','), lambda x: trim(x) <> '')), 0) > 0
           AS policy_any,
       (cur.reason = 'repeated' OR coalesce(b.grade = cur.grade, FALSE)) AS repeater,
       b.grade AS before_grade,
       cur.at_ref AND coalesce(s.status, l.status) IN ({q(ON_ROLL)}) AS on_roll
FROM cur JOIN learners l ON l.id = cur.learner_id
JOIN sch ON sch.id = cur.school_id
LEFT JOIN before_year b ON b.learner_id = l.id
LEFT JOIN status_now s ON s.learner_id = l.id
LEFT JOIN disability d ON d.learner_id = l.id;
"""

# Section III (pupils): row code -> condition over `lf` (scope: primary grades, on the roll).
NOT_SPECIAL = f"(school_type IS NULL OR school_type NOT IN ({q(SPECIAL)}))"
IS_SPECIAL = f"school_type IN ({q(SPECIAL)})"
PUPIL_ROWS = [("37", "TRUE"), ("38", "band = 'delta'"), ("39", "band = 'mountain'")]
PUPIL_ROWS += [(str(39 + g), f"grade = {g}") for g in range(1, 6)]
PUPIL_ROWS += [("45", "age < 6")] + [(str(40 + a), f"age = {a}") for a in range(6, 11)]
PUPIL_ROWS += [("51", "age > 10")]
PUPIL_ROWS += [(str(51 + g), f"age = {g + 5} AND grade = {g}") for g in range(1, 6)]
PUPIL_ROWS += [
    ("57", "grade = 1 AND NOT repeater AND (before_grade IS NULL OR before_grade NOT BETWEEN 1 AND 5)"),
    ("58", "repeater"),
    ("59", "two_sessions"),
    ("60", "boards AND minority"),
    ("61", f"disability IS NOT NULL AND {NOT_SPECIAL}"),
]
for code, kind in [("62", "03"), ("63", "02"), ("64", "05"), ("65", "01"), ("66", "04")]:
    PUPIL_ROWS.append((code, f"disability = '{kind}' AND {NOT_SPECIAL}"))
PUPIL_ROWS.append(("67", f"disability IS NOT NULL AND {IS_SPECIAL}"))
for code, kind in [("68", "03"), ("69", "02"), ("70", "05"), ("71", "01"), ("72", "04")]:
    PUPIL_ROWS.append((code, f"disability = '{kind}' AND {IS_SPECIAL}"))
PUPIL_ROWS += [("73", "grade IN (3, 4, 5)"), ("74", "policy_any"),
               ("76", f"ethnicity IN ({q(VERY_SMALL)})")]
PUPIL_MEASURES = [("all", "TRUE"), ("nu", "female"), ("dtts", "minority"),
                  ("dtts_nu", "minority AND female")]

CLASS_ROWS = [("27", "TRUE")] + [(str(27 + g), f"grade = {g}") for g in range(1, 6)] + [
    ("33", "two_sessions"), ("34", "boarding AND school_type = '01'"), ("35", IS_SPECIAL),
    ("36", "multigrade")]

QUAL = [("05", "15"), ("04", "14"), ("03", "13"), ("02",), ("01",), ("06",)]


def qual_rows(first, cond):
    return [(str(first + k), f"{cond} AND qualification IN ({q(codes)})") for k, codes in enumerate(QUAL)]


STAFF_ROWS = [("78", "TRUE"), ("79", "staff_group = '01'"), ("80", "position = '01'")]
STAFF_ROWS += qual_rows(81, "position = '01'")
STAFF_ROWS += [("87", "position = '02'"), ("88", "position = '02' AND band = 'delta'"),
               ("89", "position = '02' AND band = 'mountain'")]
STAFF_ROWS += qual_rows(90, "position = '02'")
TEACHER = f"staff_group IN ({q(TEACHER_GROUPS)})"
STAFF_ROWS += [("96", TEACHER)] + qual_rows(97, TEACHER)
for code, lo, hi in [("103", 20, 29), ("104", 30, 39), ("105", 40, 49), ("106", 50, 54),
                     ("107", 55, 59)]:
    STAFF_ROWS.append((code, f"{TEACHER} AND age BETWEEN {lo} AND {hi}"))
STAFF_ROWS += [("108", f"{TEACHER} AND age >= 60"), ("110", "staff_group = '02'"),
               ("111", "staff_group = '02' AND position IN ('09', '10', '13')")]
for code, pos in [("112", "32"), ("113", "15"), ("114", "25"), ("115", "16"), ("116", "11"),
                  ("117", "33"), ("118", "34")]:
    STAFF_ROWS.append((code, f"staff_group = '02' AND position = '{pos}'"))
STAFF_COLUMNS = [
    ("total", "TRUE"), ("nu", "female"), ("dtts", "minority"), ("dtts_nu", "minority AND female"),
    ("cl", "og = 'cl'"), ("cl_vc_kxd", "og = 'cl' AND contract = '07'"),
    ("cl_vc_xd", "og = 'cl' AND contract = '08'"),
    ("cl_hd", "og = 'cl' AND contract IN ('02', '03', '04', '05', '06')"),
    ("cl_nu", "og = 'cl' AND female"), ("cl_dtts", "og = 'cl' AND minority"),
    ("cl_dtts_nu", "og = 'cl' AND minority AND female"), ("tt", "og = 'tt'"),
    ("tt_nu", "og = 'tt' AND female"), ("tt_dtts", "og = 'tt' AND minority"),
    ("tt_dtts_nu", "og = 'tt' AND minority AND female"),
]

ROOM_ROWS = [("120", "kind = 'classroom'"),
             ("122", "kind IN ('library', 'computer_room', 'subject_room', 'multi_purpose_hall')"),
             ("123", "kind = 'library'"), ("125", "kind = 'computer_room'"),
             ("129", "kind = 'multi_purpose_hall'")]
ROOM_MEASURES = [("all", "TRUE"), ("kc", "quality = 'solid'"), ("bkc", "quality = 'semi_solid'"),
                 ("tam", "quality = 'temporary'")]


def by_group(con, table, where, rows, measures):
    """{(row, "group.measure"): n} for the groups Tổng số / Công lập / Tư thục."""
    exprs = [f"count_if(({r}) AND ({m}))" for _, r in rows for _, m in measures]
    got = con.execute(f"SELECT og, {', '.join(exprs)} FROM {table} WHERE {where} GROUP BY og").fetchall()
    cells = {}
    for og, *values in got:
        k = 0
        for rc, _ in rows:
            for mk, _ in measures:
                for group in ("total", og):
                    if group in ("total", "cl", "tt"):
                        key = (rc, f"{group}.{mk}")
                        cells[key] = cells.get(key, 0) + values[k]
                k += 1
    for rc, _ in rows:
        for group in ("total", "cl", "tt"):
            for mk, _ in measures:
                cells.setdefault((rc, f"{group}.{mk}"), 0)
    return cells


def compute(con, start_year, ref):
    con.execute(FACTS.replace("{ref}", ref).replace("{start_year}", str(start_year)))
    cells = {}
    cells.update(by_group(con, "lf", "has_th AND grade BETWEEN 1 AND 5 AND on_roll", PUPIL_ROWS,
                          PUPIL_MEASURES))
    cells.update(by_group(con, "ycls", "has_th AND grade BETWEEN 1 AND 5", CLASS_ROWS,
                          [("", "TRUE")]))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE sf AS
        SELECT st.*, sch.og, sch.band, st.sex = 'female' AS female,
               (st.ethnicity IS NOT NULL AND st.ethnicity BETWEEN '02' AND '54'
                AND length(st.ethnicity) = 2) AS minority,
               {start_year} - year(st.date_of_birth) AS age
        FROM staff st JOIN sch ON sch.id = st.school_id
        WHERE sch.has_th AND sch.main_level = 'TH'""")
    exprs = [f"count_if(({r}) AND ({c}))" for _, r in STAFF_ROWS for _, c in STAFF_COLUMNS]
    values = con.execute(f"SELECT {', '.join(exprs)} FROM sf").fetchone()
    k = 0
    for rc, _ in STAFF_ROWS:
        for ck, _ in STAFF_COLUMNS:
            cells[(rc, ck)] = values[k]
            k += 1
    con.execute("""
        CREATE OR REPLACE TEMP TABLE rf AS
        SELECT r.*, sch.og FROM rooms r JOIN sch ON sch.id = r.school_id
        WHERE sch.has_th AND sch.main_level = 'TH'""")
    cells.update(by_group(con, "rf", "TRUE", ROOM_ROWS, ROOM_MEASURES))
    # Class columns are plain groups (Tổng số / Công lập / Tư thục).
    return {(r, c[:-1] if c.endswith(".") else c): v for (r, c), v in cells.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--sqlite", help="the SQLite database file")
    src.add_argument("--postgres", help="a PostgreSQL URL (psql)")
    ap.add_argument("--totals", required=True,
                    help="the JSON `truongso bench stats --json` wrote (unit, year, totals)")
    ap.add_argument("--data-key-file", default="./data/data.key")
    ap.add_argument("--threads", type=int, default=0, help="DuckDB threads (default: all cores)")
    ap.add_argument("--check", action="store_true", help="compare every cell with unit_forms")
    ap.add_argument("--keep", help="keep the exported CSV files in this directory")
    args = ap.parse_args()

    import duckdb

    ours = json.load(open(args.totals))
    start_year, unit_id = ours["start_year"], ours["unit_id"]
    ref = ours["beginning"]["reference"]
    tmp = args.keep or tempfile.mkdtemp(prefix="bench-stats-duckdb-")
    os.makedirs(tmp, exist_ok=True)
    source = Source(args)

    t0 = time.perf_counter()
    files = []
    for name, query in exports(source, unit_id, start_year, ref):
        path = os.path.join(tmp, f"{name}.csv")
        source.export(query, path)
        files.append((name, path))
    t_export = time.perf_counter() - t0
    size = sum(os.path.getsize(p) for _, p in files)

    con = duckdb.connect(":memory:")
    if args.threads:
        con.execute(f"SET threads = {args.threads}")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    t0 = time.perf_counter()
    counts = {}
    for name, path in files:
        cols = ", ".join(f"'{c}': '{t}'" for c, t in TYPES[name].items())
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM read_csv(?, header = true, "
                    f"columns = {{{cols}}}, nullstr = '')", [path])
        counts[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    decrypted = decrypt_disabilities(con, args.data_key_file, tmp)
    t_decrypt = time.perf_counter() - t0

    t0 = time.perf_counter()
    cells = compute(con, start_year, ref)
    t_compute = time.perf_counter() - t0
    learners_on_roll = cells[("37", "total.all")]

    print(f"unit {ours['unit']}, {ours['schools']} schools, as at {ref}; DuckDB {duckdb.__version__}, "
          f"{threads} threads")
    print(f"export: {', '.join(f'{n} {c}' for n, c in counts.items())} rows; "
          f"{size / 2**20:.1f} MiB CSV, {t_export:.2f} s ({'sqlite3' if args.sqlite else 'psql'})")
    print(f"load: CSV -> tables {t_load:.2f} s; decrypt {decrypted} disability values {t_decrypt:.2f} s")
    print(f"compute: learner facts as at {ref} for {counts['learners']} learners, then 02.ĐN-TH "
          f"sections II-V ({len(cells)} cells; {learners_on_roll} primary pupils on the roll): "
          f"{t_compute:.2f} s")
    duck = t_load + t_decrypt + t_compute
    print(f"DuckDB pass (load + decrypt + compute): {duck:.2f} s; compute alone {t_compute:.2f} s")
    secs = ours["beginning"]["seconds"]
    warm = sorted(secs[1:]) or secs
    # The median as `bench stats` prints it (nearest rank).
    mine = warm[(len(warm) + 1) // 2 - 1]
    print(f"unit_forms, whole beginning-of-year set ({ours.get('build', '?')} build, warm median of "
          f"{len(warm)}): {mine:.2f} s -> ratio {mine / duck:.1f}x DuckDB load + compute, "
          f"{mine / t_compute:.1f}x compute alone")

    if args.check:
        form = next((f for f in ours["beginning"]["forms"] if f["form_id"] == FORM_ID), None)
        if form is None:
            sys.exit(f"{FORM_ID} is not among the totals")
        compared, differ = 0, []
        for section in form["sections"]:
            if section["code"] not in ("II", "III", "IV", "V"):
                continue
            for row in section["rows"]:
                for col, value in zip(section["columns"], row["cells"]):
                    if value is None:
                        continue
                    got = cells.get((row["code"], col))
                    if got is None:
                        differ.append((section["code"], row["code"], col, value, "not computed"))
                        continue
                    compared += 1
                    if got != value:
                        differ.append((section["code"], row["code"], col, value, got))
        print(f"check: {compared} cells of {FORM_ID} sections II-V compared with unit_forms, "
              f"{len(differ)} differ")
        for d in differ[:20]:
            print(f"  section {d[0]} row {d[1]} column {d[2]}: unit_forms {d[3]}, DuckDB {d[4]}")
        if differ:
            sys.exit(1)

    if not args.keep:
        for _, p in files:
            os.remove(p)


if __name__ == "__main__":
    main()
