//! Password policy and the login lockout rule (5 failures lock the account for 15 minutes).

use crate::DomainError;
use chrono::{DateTime, Duration, Utc};

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;
pub const MAX_FAILED_LOGINS: i32 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;

/// Accepts a new password: 8–128 characters, at least one letter and one digit, and not
/// containing the username.
pub fn check_new_password(password: &str, username: &str) -> Result<(), DomainError> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(DomainError::TooShort { min: MIN_LEN });
    }
    if n > MAX_LEN {
        return Err(DomainError::TooLong { max: MAX_LEN });
    }
    if !password.chars().any(char::is_alphabetic) || !password.chars().any(|c| c.is_ascii_digit()) {
        return Err(DomainError::WeakPassword);
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err(DomainError::PasswordContainsUsername);
    }
    Ok(())
}

/// The lockout state kept on an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginGuard {
    pub failed: i32,
    pub locked_until: Option<DateTime<Utc>>,
}

impl LoginGuard {
    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|t| now < t)
    }

    /// State after a wrong password. The fifth consecutive failure locks the account; a failure
    /// after a lock has expired starts a new count.
    pub fn after_failure(self, now: DateTime<Utc>) -> Self {
        let failed = if self.locked_until.is_some_and(|t| now >= t) {
            1
        } else {
            self.failed + 1
        };
        if failed >= MAX_FAILED_LOGINS {
            Self {
                failed,
                locked_until: Some(now + Duration::minutes(LOCKOUT_MINUTES)),
            }
        } else {
            Self {
                failed,
                locked_until: None,
            }
        }
    }

    pub fn after_success(self) -> Self {
        Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert_eq!(
            check_new_password("abc1", "u"),
            Err(DomainError::TooShort { min: 8 })
        );
        assert_eq!(
            check_new_password("abcdefgh", "u"),
            Err(DomainError::WeakPassword)
        );
        assert_eq!(
            check_new_password("12345678", "u"),
            Err(DomainError::WeakPassword)
        );
        assert_eq!(
            check_new_password("gv.lan2025x", "gv.lan"),
            Err(DomainError::PasswordContainsUsername)
        );
        assert!(check_new_password("Mật khẩu 2025", "gv.lan").is_ok());
    }

    #[test]
    fn fifth_failure_locks_for_fifteen_minutes() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-23T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut g = LoginGuard::default();
        for i in 1..=4 {
            g = g.after_failure(t0);
            assert_eq!(g.failed, i);
            assert!(!g.is_locked(t0));
        }
        g = g.after_failure(t0);
        assert!(g.is_locked(t0));
        assert!(g.is_locked(t0 + Duration::minutes(14) + Duration::seconds(59)));
        assert!(!g.is_locked(t0 + Duration::minutes(15)));
        // After the lock expires one more failure starts a fresh count instead of re-locking.
        let g2 = g.after_failure(t0 + Duration::minutes(16));
        assert_eq!(g2.failed, 1);
        assert!(!g2.is_locked(t0 + Duration::minutes(16)));
        assert_eq!(g.after_success(), LoginGuard::default());
    }
}
