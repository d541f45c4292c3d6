//! Office and province forms from stored per-school values: each school's computed forms are
//! kept per reference date with the school's change stamp, and database triggers bump that stamp
//! on every write to a table the statistics facts read. A province form then recomputes only the
//! schools whose records changed since (docs/decisions.md, "Statistics: per-school form cache").
//!
//! Triggers, not calls in the write functions, because they also see imports, bulk inserts,
//! migrations and modules written later. They are the one place this history is per dialect:
//! SQLite has row triggers only; PostgreSQL gets statement triggers over transition tables so a
//! bulk insert of a thousand rows bumps each school once.

use super::cols::*;
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// How a changed row names the schools whose facts it feeds. `{r}` is the changed row (a
/// transition table on PostgreSQL, a one-row subquery over NEW/OLD on SQLite), aliased `r`.
enum Feeds {
    /// The row's own school column.
    School(&'static str),
    /// Every school the learner in this column is or was enrolled at: a learner's history
    /// (status, check-ups, birth date) counts in each school's forms of the years they spent there.
    LearnerSchools(&'static str),
    /// The school of the class in this column.
    ClassSchool(&'static str),
    /// The schools of every class the learners of this class were ever in (a class's grade
    /// decides who repeats in the following year, at whatever school).
    ClassLearnersSchools,
    /// A school's own row (its levels) and a satellite site's parent school.
    OrgUnit,
}

// Every lookup is by key, to be read from an index row by row whatever the planner believes
// about table sizes: scalar subqueries by primary key, and `= ANY (ARRAY(…))` (PostgreSQL) or
// `IN (…)` (SQLite) over an indexed column. PostgreSQL caches a trigger statement's plan for the
// session; planned early in a bulk load, while a table still looked small, a join became a
// scan of the whole table per statement and made a province's bulk load 40 times slower.
impl Feeds {
    fn select(&self, src: &str, postgres: bool) -> String {
        let class_school = |id: &str| format!("(SELECT c.school_id FROM classes c WHERE c.id = {id})");
        let any = |col: &str, sub: &str| {
            if postgres {
                format!("{col} = ANY (ARRAY({sub}))")
            } else {
                format!("{col} IN ({sub})")
            }
        };
        match self {
            Feeds::School(col) => format!("SELECT r.{col} AS school_id FROM {src}"),
            Feeds::LearnerSchools(col) => format!(
                "SELECT (SELECT l.school_id FROM learners l WHERE l.id = r.{col}) AS school_id FROM {src} \
                 UNION SELECT {} FROM class_enrolments e WHERE {}",
                class_school("e.class_id"),
                any("e.learner_id", &format!("SELECT r.{col} FROM {src}"))
            ),
            Feeds::ClassSchool(col) => format!(
                "SELECT {} AS school_id FROM {src}",
                class_school(&format!("r.{col}"))
            ),
            Feeds::ClassLearnersSchools => format!(
                "SELECT {} AS school_id FROM class_enrolments e2 WHERE {}",
                class_school("e2.class_id"),
                any(
                    "e2.learner_id",
                    &format!(
                        "SELECT e.learner_id FROM class_enrolments e WHERE {}",
                        any("e.class_id", &format!("SELECT r.id FROM {src}"))
                    )
                )
            ),
            Feeds::OrgUnit => format!(
                "SELECT r.id AS school_id FROM {src} WHERE r.kind = 'school' \
                 UNION SELECT r.parent_id FROM {src} WHERE r.kind = 'satellite_site'"
            ),
        }
    }
}

/// The tables the facts loader (`store::stats::facts`) reads, the columns the triggers need,
/// and which schools a change feeds. A table added to the loader must be added here.
const WATCHED: &[(&str, &[&str], &[Feeds])] = &[
    (
        "learners",
        &["id", "school_id"],
        &[Feeds::School("school_id"), Feeds::LearnerSchools("id")],
    ),
    (
        "class_enrolments",
        &["learner_id", "class_id"],
        &[
            Feeds::ClassSchool("class_id"),
            Feeds::LearnerSchools("learner_id"),
        ],
    ),
    (
        "learner_status_history",
        &["learner_id"],
        &[Feeds::LearnerSchools("learner_id")],
    ),
    (
        "health_entries",
        &["learner_id"],
        &[Feeds::LearnerSchools("learner_id")],
    ),
    ("year_results", &["school_id"], &[Feeds::School("school_id")]),
    (
        "classes",
        &["id", "school_id"],
        &[Feeds::School("school_id"), Feeds::ClassLearnersSchools],
    ),
    ("staff", &["school_id"], &[Feeds::School("school_id")]),
    ("rooms", &["school_id"], &[Feeds::School("school_id")]),
    ("school_profiles", &["school_id"], &[Feeds::School("school_id")]),
    ("school_facilities", &["school_id"], &[Feeds::School("school_id")]),
    ("school_years", &["school_id"], &[Feeds::School("school_id")]),
    ("org_units", &["id", "parent_id", "kind"], &[Feeds::OrgUnit]),
];

/// One statement bumping the stamp of every school the rows in `src` feed, in school order so
/// two transactions lock stamps in the same order.
fn bump(feeds: &[Feeds], src: &str, postgres: bool) -> String {
    let union = feeds
        .iter()
        .map(|f| f.select(src, postgres))
        .collect::<Vec<_>>()
        .join(" UNION ");
    format!(
        "INSERT INTO stats_school_stamps (school_id, stamp) \
         SELECT DISTINCT s.school_id, 1 FROM ({union}) s WHERE s.school_id IS NOT NULL ORDER BY s.school_id \
         ON CONFLICT (school_id) DO UPDATE SET stamp = stats_school_stamps.stamp + 1"
    )
}

fn sqlite_triggers(table: &str, cols: &[&str], feeds: &[Feeds]) -> Vec<String> {
    let row = |new_or_old: &str| {
        let picked = cols
            .iter()
            .map(|c| format!("{new_or_old}.{c} AS {c}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("(SELECT {picked}) r")
    };
    let trigger = |event: &str, bodies: Vec<String>| {
        format!(
            "CREATE TRIGGER IF NOT EXISTS stats_stamp_{table}_{} AFTER {event} ON {table} \
             FOR EACH ROW BEGIN {} END",
            event.to_lowercase(),
            bodies.iter().map(|b| format!("{b};")).collect::<String>()
        )
    };
    vec![
        trigger("INSERT", vec![bump(feeds, &row("NEW"), false)]),
        trigger(
            "UPDATE",
            vec![bump(feeds, &row("OLD"), false), bump(feeds, &row("NEW"), false)],
        ),
        trigger("DELETE", vec![bump(feeds, &row("OLD"), false)]),
    ]
}

fn postgres_triggers(table: &str, feeds: &[Feeds]) -> Vec<String> {
    let function = format!("stats_stamp_{table}");
    let mut out = vec![format!(
        "CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql \
         SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off AS $$ BEGIN \
         IF TG_OP <> 'INSERT' THEN {}; END IF; \
         IF TG_OP <> 'DELETE' THEN {}; END IF; \
         RETURN NULL; END $$",
        bump(feeds, "old_rows r", true),
        bump(feeds, "new_rows r", true),
    )];
    // A trigger with transition tables serves one event only.
    for (event, tables) in [
        ("INSERT", "NEW TABLE AS new_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ] {
        let name = format!("{function}_{}", event.to_lowercase());
        out.push(format!("DROP TRIGGER IF EXISTS {name} ON {table}"));
        out.push(format!(
            "CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {tables} \
             FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        ));
    }
    out
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Alias::new("stats_school_stamps"))
                .if_not_exists()
                .col(
                    ColumnDef::new(Alias::new("school_id"))
                        .uuid()
                        .not_null()
                        .primary_key(),
                )
                .col(bigint("stamp"))
                .take(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Alias::new("stats_form_cache"))
                .if_not_exists()
                .col(uuid("school_id"))
                .col(text("form_key"))
                .col(date("reference_date"))
                .col(bigint("stamp"))
                .col(text("cells"))
                .col(ts("computed_at"))
                .primary_key(
                    Index::create()
                        .col(Alias::new("reference_date"))
                        .col(Alias::new("form_key"))
                        .col(Alias::new("school_id")),
                )
                .take(),
        )
        .await?;
        let db = m.get_connection();
        for (table, cols, feeds) in WATCHED {
            let statements = match m.get_database_backend() {
                DbBackend::Postgres => postgres_triggers(table, feeds),
                _ => sqlite_triggers(table, cols, feeds),
            };
            for sql in statements {
                db.execute_unprepared(&sql).await?;
            }
        }
        Ok(())
    }
}
