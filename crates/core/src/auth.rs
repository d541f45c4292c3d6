//! Authorisation policy: roles granted on scopes, and `can(actor, action, resource)`.
//!
//! Pure and total: every (actor, action, resource) has an answer, computed from data the caller
//! loaded (org paths, grants). Scopes are data too: an `Admin` granted on a Sở is the Sở's
//! administrator, the same role granted on a school is the school's administrator.

use crate::DomainError;
use crate::org::OrgPath;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Quản trị viên: manages units, accounts and roles in a subtree.
    Admin,
    /// Chuyên viên: supervises a subtree (Bộ, Sở, commune office), read-only.
    Officer,
    Principal,
    VicePrincipal,
    /// Tổ trưởng chuyên môn.
    DepartmentHead,
    HomeroomTeacher,
    SubjectTeacher,
    /// Văn thư / giáo vụ.
    Clerk,
    Accountant,
    Nurse,
    Librarian,
    Parent,
    Student,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    Subtree,
    School,
    Class,
    ClassSubject,
    Child,
}

impl ScopeKind {
    pub const ALL: [ScopeKind; 5] = [
        ScopeKind::Subtree,
        ScopeKind::School,
        ScopeKind::Class,
        ScopeKind::ClassSubject,
        ScopeKind::Child,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Subtree => "subtree",
            ScopeKind::School => "school",
            ScopeKind::Class => "class",
            ScopeKind::ClassSubject => "class_subject",
            ScopeKind::Child => "child",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or(DomainError::UnknownScopeKind)
    }
}

impl Role {
    pub const ALL: [Role; 13] = [
        Role::Admin,
        Role::Officer,
        Role::Principal,
        Role::VicePrincipal,
        Role::DepartmentHead,
        Role::HomeroomTeacher,
        Role::SubjectTeacher,
        Role::Clerk,
        Role::Accountant,
        Role::Nurse,
        Role::Librarian,
        Role::Parent,
        Role::Student,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Officer => "officer",
            Role::Principal => "principal",
            Role::VicePrincipal => "vice_principal",
            Role::DepartmentHead => "department_head",
            Role::HomeroomTeacher => "homeroom_teacher",
            Role::SubjectTeacher => "subject_teacher",
            Role::Clerk => "clerk",
            Role::Accountant => "accountant",
            Role::Nurse => "nurse",
            Role::Librarian => "librarian",
            Role::Parent => "parent",
            Role::Student => "student",
        }
    }

    pub fn parse(s: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or(DomainError::UnknownRole)
    }

    /// The one scope kind each role is granted on.
    pub fn scope_kind(self) -> ScopeKind {
        match self {
            Role::Admin | Role::Officer => ScopeKind::Subtree,
            Role::Principal
            | Role::VicePrincipal
            | Role::DepartmentHead
            | Role::Clerk
            | Role::Accountant
            | Role::Nurse
            | Role::Librarian => ScopeKind::School,
            Role::HomeroomTeacher => ScopeKind::Class,
            Role::SubjectTeacher => ScopeKind::ClassSubject,
            Role::Parent | Role::Student => ScopeKind::Child,
        }
    }

    /// Staff of a school (as opposed to office staff and families).
    pub fn is_school_staff(self) -> bool {
        !matches!(self, Role::Admin | Role::Officer | Role::Parent | Role::Student)
    }

    fn leads_school(self) -> bool {
        matches!(self, Role::Principal | Role::VicePrincipal)
    }
}

/// Where a role applies. Every scope carries the path of the org unit it hangs on (the subtree
/// root or the school), so containment is a path test.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    Subtree {
        root: OrgPath,
    },
    School {
        school: OrgPath,
    },
    Class {
        school: OrgPath,
        class_id: Uuid,
    },
    ClassSubject {
        school: OrgPath,
        class_id: Uuid,
        subject: String,
    },
    Child {
        school: OrgPath,
        learner_id: Uuid,
    },
}

impl Scope {
    pub fn kind(&self) -> ScopeKind {
        match self {
            Scope::Subtree { .. } => ScopeKind::Subtree,
            Scope::School { .. } => ScopeKind::School,
            Scope::Class { .. } => ScopeKind::Class,
            Scope::ClassSubject { .. } => ScopeKind::ClassSubject,
            Scope::Child { .. } => ScopeKind::Child,
        }
    }

    /// The org unit the scope hangs on.
    pub fn anchor(&self) -> &OrgPath {
        match self {
            Scope::Subtree { root } => root,
            Scope::School { school }
            | Scope::Class { school, .. }
            | Scope::ClassSubject { school, .. }
            | Scope::Child { school, .. } => school,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub role: Role,
    pub scope: Scope,
}

impl Grant {
    /// A grant is only valid on the scope kind its role takes.
    pub fn new(role: Role, scope: Scope) -> Result<Self, DomainError> {
        if role.scope_kind() != scope.kind() {
            return Err(DomainError::ScopeNotAllowedForRole);
        }
        Ok(Self { role, scope })
    }
}

/// Who is asking: an authenticated account with its grants, loaded per request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: Uuid,
    pub grants: Vec<Grant>,
}

impl Actor {
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// See one's own home page and profile.
    ViewOwn,
    ChangeOwnPassword,
    ManageOwnTokens,
    /// See a unit in the org-tree browser (name, codes, children).
    ViewOrgUnit,
    /// Create units below a unit, rename it, change its codes.
    ManageOrgUnit,
    /// Set a school's years and terms.
    ManageSchoolYears,
    /// List accounts owned by a unit.
    ViewUsers,
    /// Create, edit, lock, unlock an account owned by a unit.
    ManageUser,
    /// Grant or revoke a role on a scope.
    GrantRole,
    /// Read and verify the audit chain (system-wide, so only for a root unit's administrator).
    ViewAudit,
    /// Read a learner's record (identity, enrolment, status, guardians).
    ViewLearner,
    /// Create or change a learner's record.
    ManageLearner,
    /// Read a learner's health record: only the nurse, the principal, the homeroom teacher and
    /// the learner's own guardians (school-records issue).
    ViewHealth,
    /// Record check-ups, vaccinations and conditions: the school nurse.
    ManageHealth,
    /// See a class: its roll, homeroom teacher, assignments. On an org unit: all its classes.
    ViewClass,
    /// Open, change, fill and roll over classes.
    ManageClass,
    /// See staff records of a school or subtree.
    ViewStaff,
    /// Create and change staff records and teaching assignments.
    ManageStaff,
    /// See rooms, equipment and facility facts.
    ViewFacilities,
    ManageFacilities,
    /// Import records from XLSX files into a school.
    ImportRecords,
    /// See the data-quality dashboard of a school or subtree.
    ViewQuality,
    /// Read a class's marks in one subject (the gradebook grid, statistics).
    ViewMarks,
    /// Enter marks in a class and subject: only the teacher assigned to it.
    EnterMarks,
    /// Deadlines and locks, correction approvals, the year's rule options, computing results:
    /// the school's leaders.
    ManageGradebook,
    /// The homeroom teacher's class summary: conduct, absences, comments.
    SummariseClass,
    /// Read a learner's results (result card): staff who teach or lead, offices, the family.
    ViewResults,
    /// See signed documents (học bạ số, văn bằng số) and their signing status: a school's record
    /// keepers, offices above it, the class's homeroom teacher, and the family (issued ones only).
    ViewCredentials,
    /// Sign a học bạ as its homeroom teacher (GVCN): only the teacher of that class.
    SignAsHomeroom,
    /// Sign a học bạ as the school's principal (Hiệu trưởng).
    SignAsPrincipal,
    /// Apply the school's organisation signature (con dấu): the principal or the clerk (văn thư),
    /// who keeps the seal.
    ApplySeal,
    /// Open a class or a whole school's học bạ for signing (and run the batch issue).
    IssueCredentials,
    /// Revoke or correct an issued học bạ: the principal.
    RevokeCredential,
    /// Record a copy or extract handed out: the principal or the clerk.
    CopyCredential,
    /// Register and retire the certificates a unit's people sign with.
    ManageSigningIdentities,
    /// The diploma registry of a Sở: create, sign as its director, revoke, copy.
    ManageDiplomas,
    /// See the statistical forms, indicators and reports of a school or subtree: the school's
    /// leaders and clerk, and the offices above it.
    ViewStats,
    /// Review a school's forms, explain its data-quality errors and submit them: the principal,
    /// vice-principal or clerk (who prepares the report).
    SubmitStats,
    /// Open and close reporting periods, approve or return submissions, import population
    /// tables: an office's administrator or officer, over its subtree.
    ManageStats,
}

impl Action {
    pub const ALL: [Action; 39] = [
        Action::ViewOwn,
        Action::ChangeOwnPassword,
        Action::ManageOwnTokens,
        Action::ViewOrgUnit,
        Action::ManageOrgUnit,
        Action::ManageSchoolYears,
        Action::ViewUsers,
        Action::ManageUser,
        Action::GrantRole,
        Action::ViewAudit,
        Action::ViewLearner,
        Action::ManageLearner,
        Action::ViewHealth,
        Action::ManageHealth,
        Action::ViewClass,
        Action::ManageClass,
        Action::ViewStaff,
        Action::ManageStaff,
        Action::ViewFacilities,
        Action::ManageFacilities,
        Action::ImportRecords,
        Action::ViewQuality,
        Action::ViewMarks,
        Action::EnterMarks,
        Action::ManageGradebook,
        Action::SummariseClass,
        Action::ViewResults,
        Action::ViewCredentials,
        Action::SignAsHomeroom,
        Action::SignAsPrincipal,
        Action::ApplySeal,
        Action::IssueCredentials,
        Action::RevokeCredential,
        Action::CopyCredential,
        Action::ManageSigningIdentities,
        Action::ManageDiplomas,
        Action::ViewStats,
        Action::SubmitStats,
        Action::ManageStats,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::ViewOwn => "view_own",
            Action::ChangeOwnPassword => "change_own_password",
            Action::ManageOwnTokens => "manage_own_tokens",
            Action::ViewOrgUnit => "view_org_unit",
            Action::ManageOrgUnit => "manage_org_unit",
            Action::ManageSchoolYears => "manage_school_years",
            Action::ViewUsers => "view_users",
            Action::ManageUser => "manage_user",
            Action::GrantRole => "grant_role",
            Action::ViewAudit => "view_audit",
            Action::ViewLearner => "view_learner",
            Action::ManageLearner => "manage_learner",
            Action::ViewHealth => "view_health",
            Action::ManageHealth => "manage_health",
            Action::ViewClass => "view_class",
            Action::ManageClass => "manage_class",
            Action::ViewStaff => "view_staff",
            Action::ManageStaff => "manage_staff",
            Action::ViewFacilities => "view_facilities",
            Action::ManageFacilities => "manage_facilities",
            Action::ImportRecords => "import_records",
            Action::ViewQuality => "view_quality",
            Action::ViewMarks => "view_marks",
            Action::EnterMarks => "enter_marks",
            Action::ManageGradebook => "manage_gradebook",
            Action::SummariseClass => "summarise_class",
            Action::ViewResults => "view_results",
            Action::ViewCredentials => "view_credentials",
            Action::SignAsHomeroom => "sign_as_homeroom",
            Action::SignAsPrincipal => "sign_as_principal",
            Action::ApplySeal => "apply_seal",
            Action::IssueCredentials => "issue_credentials",
            Action::RevokeCredential => "revoke_credential",
            Action::CopyCredential => "copy_credential",
            Action::ManageSigningIdentities => "manage_signing_identities",
            Action::ManageDiplomas => "manage_diplomas",
            Action::ViewStats => "view_stats",
            Action::SubmitStats => "submit_stats",
            Action::ManageStats => "manage_stats",
        }
    }
}

/// What is acted on, reduced to the facts the policy needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// The actor's own account.
    Own,
    /// An org unit, by its path.
    OrgUnit(&'a OrgPath),
    /// An account, by the path of the unit that owns it and the grants it holds: managing an
    /// account (password reset, disabling) is taking it over, so the actor must be able to
    /// grant every role the account holds.
    User { owner: &'a OrgPath, grants: &'a [Grant] },
    /// A role to be granted on a scope.
    Grant { role: Role, scope: &'a Scope },
    /// The whole installation (audit chain).
    System,
    /// A learner, by school, current class and id.
    Learner {
        school: &'a OrgPath,
        class_id: Option<Uuid>,
        learner_id: Uuid,
    },
    /// A class, by school and id.
    Class { school: &'a OrgPath, class_id: Uuid },
    /// One subject of a class (a gradebook page).
    ClassSubject {
        school: &'a OrgPath,
        class_id: Uuid,
        subject: &'a str,
    },
    /// Signed documents: those of a class (`learner_id` None) or one learner's document.
    Credentials {
        /// The issuing unit: the school of a học bạ, the Sở of a diploma.
        issuer: &'a OrgPath,
        class_id: Option<Uuid>,
        learner_id: Option<Uuid>,
        /// Issued (or since revoked or superseded): only such documents reach the family.
        issued: bool,
        /// The actor is the class's homeroom teacher of record: the class's homeroom staff
        /// record is linked to the actor's account. A past year's teacher keeps signing that
        /// year's học bạ after their grants moved on to this year's class.
        homeroom_of_record: bool,
    },
}

/// Who keeps a school's records: its leaders and its clerk (văn thư), and administrators above.
fn keeps_records(g: &Grant, path: &OrgPath) -> bool {
    path.is_within(g.scope.anchor())
        && matches!(
            g.role,
            Role::Admin | Role::Principal | Role::VicePrincipal | Role::Clerk
        )
}

/// Who may read a school's records: offices above it and every member of its staff.
fn reads_school(g: &Grant, path: &OrgPath) -> bool {
    path.is_within(g.scope.anchor())
        && match g.role {
            Role::Admin | Role::Officer => true,
            r => r.is_school_staff() && matches!(g.scope, Scope::School { .. }),
        }
}

/// Roles a school's principal or vice-principal may hand out inside the school.
fn school_leader_may_grant(role: Role) -> bool {
    matches!(
        role,
        Role::DepartmentHead
            | Role::HomeroomTeacher
            | Role::SubjectTeacher
            | Role::Clerk
            | Role::Accountant
            | Role::Nurse
            | Role::Librarian
            | Role::Parent
            | Role::Student
    )
}

/// Whether one grant opens a learner's record for `action`.
fn learner_access(
    g: &Grant,
    action: Action,
    school: &OrgPath,
    class_id: Option<Uuid>,
    learner_id: Uuid,
) -> bool {
    let own_class = |c: &Uuid| class_id == Some(*c);
    match (&g.scope, g.role, action) {
        // Offices and administrators see and correct records in their subtree, not health.
        (Scope::Subtree { root }, Role::Admin, Action::ViewLearner | Action::ManageLearner) => {
            school.is_within(root)
        }
        (Scope::Subtree { root }, Role::Officer, Action::ViewLearner) => school.is_within(root),
        (Scope::School { school: s }, role, action) if s == school => match action {
            Action::ViewLearner => true,
            Action::ManageLearner => matches!(role, Role::Principal | Role::VicePrincipal | Role::Clerk),
            Action::ViewHealth => matches!(role, Role::Principal | Role::Nurse),
            Action::ManageHealth => role == Role::Nurse,
            _ => false,
        },
        // The homeroom teacher keeps the class's records, and reads their health notes.
        (
            Scope::Class {
                school: s,
                class_id: c,
            },
            Role::HomeroomTeacher,
            Action::ViewLearner | Action::ManageLearner | Action::ViewHealth,
        ) => s == school && own_class(c),
        (
            Scope::ClassSubject {
                school: s,
                class_id: c,
                ..
            },
            Role::SubjectTeacher,
            Action::ViewLearner,
        ) => s == school && own_class(c),
        (Scope::Child { learner_id: l, .. }, Role::Parent, Action::ViewLearner | Action::ViewHealth) => {
            *l == learner_id
        }
        (Scope::Child { learner_id: l, .. }, Role::Student, Action::ViewLearner) => *l == learner_id,
        _ => false,
    }
}

/// Who reads a school's gradebook as a whole: its leaders, department heads and clerk (who
/// prints the sheets), and the offices and administrators above it.
fn reads_gradebook(g: &Grant, school: &OrgPath) -> bool {
    school.is_within(g.scope.anchor())
        && matches!(
            (&g.scope, g.role),
            (Scope::Subtree { .. }, Role::Admin | Role::Officer)
                | (
                    Scope::School { .. },
                    Role::Principal | Role::VicePrincipal | Role::DepartmentHead | Role::Clerk,
                )
        )
}

/// Whether a grant ties its holder to one class: its homeroom teacher or a teacher of one of
/// its subjects.
fn teaches_class(g: &Grant, school: &OrgPath, class_id: Uuid) -> bool {
    match (&g.scope, g.role) {
        (
            Scope::Class {
                school: s,
                class_id: c,
            },
            Role::HomeroomTeacher,
        )
        | (
            Scope::ClassSubject {
                school: s,
                class_id: c,
                ..
            },
            Role::SubjectTeacher,
        ) => s == school && *c == class_id,
        _ => false,
    }
}

/// Whether a grant makes its holder the homeroom teacher of a class's documents: a homeroom
/// grant on that class, or (`of_record`) any school-staff grant in the issuing school held by the
/// teacher the class records as its homeroom teacher.
fn homeroom_of(g: &Grant, issuer: &OrgPath, class_id: Option<Uuid>, of_record: bool) -> bool {
    match (&g.scope, g.role) {
        (
            Scope::Class {
                school: s,
                class_id: c,
            },
            Role::HomeroomTeacher,
        ) if s == issuer && Some(*c) == class_id => true,
        (scope, role) => {
            of_record && class_id.is_some() && role.is_school_staff() && scope.anchor() == issuer
        }
    }
}

/// A school-scoped grant of one of `roles` on the school at `path` (or a site of it).
fn school_role(g: &Grant, path: &OrgPath, roles: &[Role]) -> bool {
    matches!(g.scope, Scope::School { .. }) && roles.contains(&g.role) && path.is_within(g.scope.anchor())
}

/// The authorisation decision. Deny unless a grant allows.
pub fn can(actor: &Actor, action: Action, resource: Resource<'_>) -> bool {
    use Action::*;
    match (action, resource) {
        (ViewOwn | ChangeOwnPassword | ManageOwnTokens, Resource::Own) => true,
        (ViewOrgUnit, Resource::OrgUnit(path)) => actor.grants.iter().any(|g| match g.role {
            Role::Admin | Role::Officer => path.is_within(g.scope.anchor()),
            r if r.is_school_staff() => path.is_within(g.scope.anchor()),
            _ => false,
        }),
        (ManageOrgUnit, Resource::OrgUnit(path)) => actor
            .grants
            .iter()
            .any(|g| g.role == Role::Admin && path.is_within(g.scope.anchor())),
        (ManageSchoolYears, Resource::OrgUnit(path)) => actor
            .grants
            .iter()
            .any(|g| (g.role == Role::Admin || g.role.leads_school()) && path.is_within(g.scope.anchor())),
        (ViewUsers, Resource::OrgUnit(path)) => actor
            .grants
            .iter()
            .any(|g| (g.role == Role::Admin || g.role.leads_school()) && path.is_within(g.scope.anchor())),
        (ManageUser, Resource::User { owner, grants }) => {
            actor
                .grants
                .iter()
                .any(|g| g.role == Role::Admin && owner.is_within(g.scope.anchor()))
                && grants.iter().all(|t| {
                    can(
                        actor,
                        GrantRole,
                        Resource::Grant {
                            role: t.role,
                            scope: &t.scope,
                        },
                    )
                })
        }
        (GrantRole, Resource::Grant { role, scope }) => actor.grants.iter().any(|g| {
            let inside = scope.anchor().is_within(g.scope.anchor());
            match g.role {
                Role::Admin => inside,
                r if r.leads_school() => inside && school_leader_may_grant(role),
                _ => false,
            }
        }),
        (ViewStaff, Resource::OrgUnit(path)) => actor.grants.iter().any(|g| {
            keeps_records(g, path)
                || (path.is_within(g.scope.anchor())
                    && matches!(g.role, Role::Officer | Role::DepartmentHead))
        }),
        (ManageStaff | ManageFacilities | ImportRecords, Resource::OrgUnit(path)) => {
            actor.grants.iter().any(|g| keeps_records(g, path))
        }
        (ViewQuality, Resource::OrgUnit(path)) => actor
            .grants
            .iter()
            .any(|g| keeps_records(g, path) || (g.role == Role::Officer && path.is_within(g.scope.anchor()))),
        (ViewFacilities | ViewClass, Resource::OrgUnit(path)) => {
            actor.grants.iter().any(|g| reads_school(g, path))
        }
        (ViewClass, Resource::Class { school, class_id }) => actor.grants.iter().any(|g| {
            reads_school(g, school)
                || match &g.scope {
                    Scope::Class {
                        school: s,
                        class_id: c,
                    }
                    | Scope::ClassSubject {
                        school: s,
                        class_id: c,
                        ..
                    } => s == school && *c == class_id,
                    _ => false,
                }
        }),
        (ManageClass, Resource::Class { school, .. }) => {
            actor.grants.iter().any(|g| keeps_records(g, school))
        }
        (
            ViewLearner | ManageLearner | ViewHealth | ManageHealth,
            Resource::Learner {
                school,
                class_id,
                learner_id,
            },
        ) => actor
            .grants
            .iter()
            .any(|g| learner_access(g, action, school, class_id, learner_id)),
        (ViewMarks, Resource::ClassSubject { school, class_id, .. }) => actor
            .grants
            .iter()
            .any(|g| reads_gradebook(g, school) || teaches_class(g, school, class_id)),
        (
            EnterMarks,
            Resource::ClassSubject {
                school,
                class_id,
                subject,
            },
        ) => actor.grants.iter().any(|g| match (&g.scope, g.role) {
            (
                Scope::ClassSubject {
                    school: s,
                    class_id: c,
                    subject: sub,
                },
                Role::SubjectTeacher,
            ) => s == school && *c == class_id && sub == subject,
            _ => false,
        }),
        (ManageGradebook, Resource::OrgUnit(path)) => actor.grants.iter().any(|g| {
            g.role.leads_school()
                && matches!(g.scope, Scope::School { .. })
                && path.is_within(g.scope.anchor())
        }),
        (SummariseClass, Resource::Class { school, class_id }) => {
            actor.grants.iter().any(|g| match (&g.scope, g.role) {
                (
                    Scope::Class {
                        school: s,
                        class_id: c,
                    },
                    Role::HomeroomTeacher,
                ) => s == school && *c == class_id,
                _ => false,
            })
        }
        (ViewResults, Resource::Class { school, class_id }) => actor
            .grants
            .iter()
            .any(|g| reads_gradebook(g, school) || teaches_class(g, school, class_id)),
        (
            ViewResults,
            Resource::Learner {
                school,
                class_id,
                learner_id,
            },
        ) => actor.grants.iter().any(|g| {
            reads_gradebook(g, school)
                || class_id.is_some_and(|c| teaches_class(g, school, c))
                || matches!(&g.scope, Scope::Child { learner_id: l, .. }
                    if *l == learner_id && matches!(g.role, Role::Parent | Role::Student))
        }),
        (ViewCredentials, Resource::OrgUnit(path)) => actor
            .grants
            .iter()
            .any(|g| keeps_records(g, path) || (g.role == Role::Officer && path.is_within(g.scope.anchor()))),
        (
            ViewCredentials,
            Resource::Credentials {
                issuer,
                class_id,
                learner_id,
                issued,
                homeroom_of_record,
            },
        ) => actor.grants.iter().any(|g| {
            keeps_records(g, issuer)
                || (g.role == Role::Officer && issuer.is_within(g.scope.anchor()))
                || homeroom_of(g, issuer, class_id, homeroom_of_record)
                || (issued
                    && matches!(&g.scope, Scope::Child { learner_id: l, .. }
                        if Some(*l) == learner_id && matches!(g.role, Role::Parent | Role::Student)))
        }),
        (
            SignAsHomeroom,
            Resource::Credentials {
                issuer,
                class_id,
                homeroom_of_record,
                ..
            },
        ) => actor
            .grants
            .iter()
            .any(|g| homeroom_of(g, issuer, class_id, homeroom_of_record)),
        (SignAsPrincipal | RevokeCredential, Resource::OrgUnit(path)) => actor
            .grants
            .iter()
            .any(|g| school_role(g, path, &[Role::Principal])),
        (ApplySeal | IssueCredentials | CopyCredential, Resource::OrgUnit(path)) => actor
            .grants
            .iter()
            .any(|g| school_role(g, path, &[Role::Principal, Role::Clerk])),
        (ManageSigningIdentities, Resource::OrgUnit(path)) => actor.grants.iter().any(|g| {
            school_role(g, path, &[Role::Principal])
                || (g.role == Role::Admin && path.is_within(g.scope.anchor()))
        }),
        // The handler asks with the issuing Sở's path: the registry is the Sở's.
        (ManageDiplomas, Resource::OrgUnit(path)) => actor.grants.iter().any(|g| {
            matches!(g.scope, Scope::Subtree { .. })
                && matches!(g.role, Role::Admin | Role::Officer)
                && path.is_within(g.scope.anchor())
        }),
        (ViewStats, Resource::OrgUnit(path)) => actor
            .grants
            .iter()
            .any(|g| keeps_records(g, path) || (g.role == Role::Officer && path.is_within(g.scope.anchor()))),
        (SubmitStats, Resource::OrgUnit(path)) => actor
            .grants
            .iter()
            .any(|g| school_role(g, path, &[Role::Principal, Role::VicePrincipal, Role::Clerk])),
        (ManageStats, Resource::OrgUnit(path)) => actor.grants.iter().any(|g| {
            matches!(g.scope, Scope::Subtree { .. })
                && matches!(g.role, Role::Admin | Role::Officer)
                && path.is_within(g.scope.anchor())
        }),
        (ViewAudit, Resource::System) => actor
            .grants
            .iter()
            .any(|g| g.role == Role::Admin && g.scope.anchor().depth() == 1),
        // Any other pairing of action and resource is a programming error at the call site;
        // deny rather than guess.
        _ => false,
    }
}

#[cfg(test)]
mod tests;
