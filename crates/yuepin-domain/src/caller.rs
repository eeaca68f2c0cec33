//! Who is asking a service to do something: the identity every service call carries, so that
//! role and tenant are checked below HTTP (the web layer, the CLI and tests all build one).
//! A [`Denied`] says why a call was refused, as a code the caller's face turns into words.

use crate::Role;
use serde::Serialize;

/// The caller of a service use case: a signed-in user, the CLI, the system itself, or the
/// anonymous public (a consumer scanning a code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub kind: CallerKind,
    /// The audit name: "user:3:alice", "cli:import", "system", "public".
    pub actor: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerKind {
    /// A signed-in account with its role and, for enterprise users, its enterprise.
    User {
        user_id: i64,
        role: Role,
        enterprise_id: Option<i64>,
        /// The organisation (lab, bank, unit) the account belongs to, when it has one.
        organisation: Option<i64>,
    },
    /// The operator at the command line: trusted like a regulator, audited as `cli:…`.
    Operator,
    /// The platform acting on its own (scheduled jobs, demo seeding).
    System,
    /// Nobody signed in.
    Public,
}

impl Caller {
    pub fn user(
        user_id: i64,
        username: &str,
        role: Role,
        enterprise_id: Option<i64>,
        organisation: Option<i64>,
    ) -> Self {
        Self {
            kind: CallerKind::User {
                user_id,
                role,
                enterprise_id,
                organisation,
            },
            actor: format!("user:{user_id}:{username}"),
        }
    }
    pub fn cli(what: &str) -> Self {
        Self {
            kind: CallerKind::Operator,
            actor: format!("cli:{what}"),
        }
    }
    pub fn system() -> Self {
        Self {
            kind: CallerKind::System,
            actor: "system".into(),
        }
    }
    pub fn public() -> Self {
        Self {
            kind: CallerKind::Public,
            actor: "public".into(),
        }
    }

    pub fn role(&self) -> Option<Role> {
        match self.kind {
            CallerKind::User { role, .. } => Some(role),
            _ => None,
        }
    }
    pub fn user_id(&self) -> Option<i64> {
        match self.kind {
            CallerKind::User { user_id, .. } => Some(user_id),
            _ => None,
        }
    }
    /// The enterprise an enterprise user is bound to.
    pub fn enterprise_id(&self) -> Option<i64> {
        match self.kind {
            CallerKind::User { enterprise_id, .. } => enterprise_id,
            _ => None,
        }
    }
    pub fn organisation(&self) -> Option<i64> {
        match self.kind {
            CallerKind::User { organisation, .. } => organisation,
            _ => None,
        }
    }

    /// Regulators, the CLI operator and the system administer everything.
    pub fn is_administrator(&self) -> bool {
        matches!(self.kind, CallerKind::Operator | CallerKind::System)
            || self.role() == Some(Role::Regulator)
    }

    /// Passes when the caller has one of `roles` (administrators always pass).
    pub fn require_role(&self, roles: &[Role]) -> Result<(), Denied> {
        match self.kind {
            CallerKind::Public => Err(Denied::SignInRequired),
            _ if self.is_administrator() => Ok(()),
            CallerKind::User { role, .. } if roles.contains(&role) => Ok(()),
            _ => Err(Denied::Role {
                needs: roles.to_vec(),
            }),
        }
    }

    /// Passes only for administrators (regulator, CLI, system).
    pub fn require_administrator(&self) -> Result<(), Denied> {
        self.require_role(&[Role::Regulator])
    }

    /// May the caller read one enterprise's own data? Administrators all, an enterprise user
    /// its own. Banks reach an enterprise only through a live consent, checked by the service
    /// that owns the consent.
    pub fn can_read_enterprise(&self, enterprise_id: i64) -> bool {
        self.is_administrator()
            || (self.role() == Some(Role::Enterprise)
                && self.enterprise_id() == Some(enterprise_id))
    }

    /// Like [`Caller::can_read_enterprise`], as a check. Someone else's enterprise and a
    /// missing one look the same to the caller (no probing for which credit codes exist).
    pub fn require_enterprise(&self, enterprise_id: i64) -> Result<(), Denied> {
        if matches!(self.kind, CallerKind::Public) {
            return Err(Denied::SignInRequired);
        }
        if self.can_read_enterprise(enterprise_id) {
            Ok(())
        } else {
            Err(Denied::OtherEnterprise)
        }
    }
}

/// Why a service refused a call. No UI text: the web layer and the CLI word it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Denied {
    #[error("sign-in required")]
    SignInRequired,
    #[error("requires one of the roles {needs:?}")]
    Role { needs: Vec<Role> },
    #[error("the enterprise is not the caller's")]
    OtherEnterprise,
    #[error("the record belongs to another organisation")]
    OtherOrganisation,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enterprise_users_reach_only_their_own() {
        let c = Caller::user(7, "acme", Role::Enterprise, Some(3), None);
        assert!(c.require_enterprise(3).is_ok());
        assert_eq!(c.require_enterprise(4), Err(Denied::OtherEnterprise));
        assert!(c.require_administrator().is_err());
        assert_eq!(c.actor, "user:7:acme");
    }

    #[test]
    fn administrators_and_the_public() {
        for c in [
            Caller::cli("x"),
            Caller::system(),
            Caller::user(1, "r", Role::Regulator, None, None),
        ] {
            assert!(c.require_enterprise(99).is_ok());
            assert!(c.require_role(&[Role::Lab]).is_ok());
        }
        assert_eq!(
            Caller::public().require_enterprise(1),
            Err(Denied::SignInRequired)
        );
        let bank = Caller::user(2, "b", Role::Bank, None, None);
        assert_eq!(bank.require_enterprise(1), Err(Denied::OtherEnterprise));
        assert!(matches!(
            bank.require_role(&[Role::Lab]),
            Err(Denied::Role { .. })
        ));
    }

    #[test]
    fn china_is_eight_hours_ahead() {
        let utc = chrono::Utc::now().naive_utc();
        let diff = crate::date::china_now() - utc;
        assert!((diff.num_minutes() - 480).abs() <= 1);
    }
}
