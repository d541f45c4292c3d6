//! Runs import jobs in the background: the upload is stored as a job, a task parses and
//! validates the file, writes it in one transaction, and records the outcome. Progress lives in
//! memory (see `store::jobs`); pages poll it.

use crate::AppState;
use serde::Serialize;
use truongso_core::i18n::{self, Locale};
use truongso_docs::{Parsed, Template, template};
use truongso_store::ActorRef;
use truongso_store::imports::{self, InRow, Problem, RowError};
use uuid::Uuid;

/// Largest import: a year's learners of the biggest schools, with room to spare.
pub const MAX_IMPORT_ROWS: usize = 20_000;

/// The templates that can be imported, by id.
pub fn template(kind: &str) -> Option<&'static Template> {
    template::by_id(kind)
}

/// One located error, in both languages (the job outlives the request that made it).
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct JobError {
    pub sheet: String,
    pub row: Option<u32>,
    pub column: Option<String>,
    pub header: Option<String>,
    pub code: String,
    pub message_vi: String,
    pub message_en: String,
}

fn reason(locale: Locale, p: &Problem) -> String {
    match p {
        Problem::Field(e) => i18n::tf(locale, &format!("error.{}", e.code()), &e.params()),
        Problem::Code(c) => i18n::t(locale, &format!("error.{c}")).to_string(),
    }
}

fn row_errors(parsed: &Parsed, errors: &[RowError]) -> Vec<JobError> {
    errors
        .iter()
        .map(|e| {
            let at = parsed.cell_ref(e.row, e.key);
            let code = match &e.problem {
                Problem::Field(d) => d.code(),
                Problem::Code(c) => c,
            };
            JobError {
                message_vi: at.describe(Locale::Vi, &reason(Locale::Vi, &e.problem)),
                message_en: at.describe(Locale::En, &reason(Locale::En, &e.problem)),
                sheet: at.sheet,
                row: Some(at.row),
                column: at.column,
                header: Some(at.header),
                code: code.to_string(),
            }
        })
        .collect()
}

fn file_errors(errors: &[truongso_docs::CellError]) -> Vec<JobError> {
    errors
        .iter()
        .map(|e| JobError {
            message_vi: e.message(Locale::Vi),
            message_en: e.message(Locale::En),
            sheet: e.sheet.clone(),
            row: e.row,
            column: e.column.clone(),
            header: e.header.clone(),
            code: e.code.code().to_string(),
        })
        .collect()
}

/// Stores the upload as a job and starts it; returns the job id at once.
pub async fn start_import(
    st: &AppState,
    t: &'static Template,
    school_id: Uuid,
    actor: ActorRef,
    bytes: Vec<u8>,
) -> crate::error::AppResult<Uuid> {
    let id = truongso_store::jobs::create(
        &st.store.db,
        &format!("import.{}", t.id),
        Some(school_id),
        actor.id,
        bytes,
        0,
    )
    .await?;
    st.set_progress(id, 0, 0);
    let st = st.clone();
    tokio::spawn(async move {
        let (ok, result) = match run(&st, id, t, school_id, &actor).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(job = %id, error = %e, "import failed");
                (false, serde_json::json!({ "internal": true }))
            }
        };
        if let Err(e) = truongso_store::jobs::finish(&st.store.db, id, ok, &result).await {
            tracing::error!(job = %id, error = %e, "could not record the job outcome");
        }
        st.clear_progress(id);
    });
    Ok(id)
}

async fn run(
    st: &AppState,
    id: Uuid,
    t: &'static Template,
    school_id: Uuid,
    actor: &ActorRef,
) -> truongso_store::Result<(bool, serde_json::Value)> {
    let db = &st.store.db;
    let bytes = truongso_store::jobs::start(db, id).await?;
    // Parsing is CPU work on a file of up to tens of megabytes: keep it off the async workers.
    let parsed = tokio::task::spawn_blocking(move || truongso_docs::parse(&bytes, t, MAX_IMPORT_ROWS))
        .await
        .map_err(|e| truongso_store::Error::Internal(e.to_string()))?;
    let parsed = match parsed {
        Ok(p) => p,
        Err(errors) => return Ok((false, serde_json::json!({ "errors": file_errors(&errors) }))),
    };
    let rows: Vec<InRow> = parsed
        .rows
        .iter()
        .map(|r| InRow {
            number: r.number,
            cells: r.cells.clone(),
        })
        .collect();
    let progress = {
        let st = st.clone();
        move |done: u32, total: u32| st.set_progress(id, done, total)
    };
    let today = crate::today();
    let outcome = match t.id {
        "learners" => imports::learners(db, &st.cipher, actor, school_id, &rows, today, &progress).await?,
        "guardians" => imports::guardians(db, &st.cipher, actor, school_id, &rows, &progress).await?,
        "staff" => imports::staff(db, &st.cipher, actor, school_id, &rows, today, &progress).await?,
        "classes" => imports::classes(db, actor, school_id, &rows, today, &progress).await?,
        "assignments" => imports::assignments(db, actor, school_id, &rows, today, &progress).await?,
        other => {
            return Err(truongso_store::Error::Internal(format!(
                "no importer for {other}"
            )));
        }
    };
    Ok(match outcome {
        Ok(report) => (true, serde_json::json!({ "report": report })),
        Err(errors) => (
            false,
            serde_json::json!({ "errors": row_errors(&parsed, &errors) }),
        ),
    })
}
