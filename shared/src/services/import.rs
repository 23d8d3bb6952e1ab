//! Bringing an original's users over with their ids and password hashes. An integer id
//! becomes the polyauth id (the rest of the app's database refers to it); a string id (seed
//! 000's ObjectIds) is kept as the user's legacy id beside a new integer one. Each user is
//! written in one transaction with its unique identifiers, so an import is idempotent: a user
//! already there is skipped, and a clash with somebody else is reported, never merged.

use super::{
    batch::Batch,
    legacy_hash::{self, BareHex, Imported},
    users, Auth,
};
use crate::{
    domain::{Email, ParseError, Permission, Phone, Profile, Status, User, UserId, Username},
    schema::{self, Claim},
    store::{Item, Lifetime, StoreError, Write},
    Error, Result,
};
use std::collections::BTreeSet;

/// The id a user had in the original's table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LegacyId {
    /// An integer id, kept as the polyauth id.
    Number(u64),
    /// Any other id (a MongoDB ObjectId, say), kept beside a new polyauth id.
    Text(String),
}

impl LegacyId {
    /// A user reference as a client sends it: digits are a polyauth id, anything else an
    /// original's string id.
    pub fn parse(raw: &str) -> Option<LegacyId> {
        let s = raw.trim();
        if s.is_empty() || s.len() > 64 || s.chars().any(char::is_control) {
            return None;
        }
        Some(match s.parse::<u64>() {
            Ok(n) => LegacyId::Number(n),
            Err(_) => LegacyId::Text(s.to_string()),
        })
    }
}

/// One user of an import file, parsed: every field checked, nothing written yet.
#[derive(Debug, Clone)]
pub struct ImportedUser {
    pub id: LegacyId,
    pub email: Option<Email>,
    pub mobile: Option<Phone>,
    pub username: Option<Username>,
    pub name: String,
    pub hash: Option<Imported>,
    pub disabled: bool,
    pub permissions: BTreeSet<Permission>,
    pub created_at: Option<i64>,
}

/// What importing one user did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Imported(UserId),
    /// The same user is already there (a second run of the same file).
    Skipped(UserId),
    /// Somebody else holds the id or an identifier; nothing was written.
    Conflict(String),
}

/// The line of a file, as the original's export writes it.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportLine {
    id: serde_json::Value,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    mobile: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    password_hash: Option<String>,
    #[serde(default, deserialize_with = "null_is_default")]
    disabled: bool,
    #[serde(default, deserialize_with = "null_is_default")]
    permissions: Vec<String>,
    #[serde(default)]
    created_at: Option<String>,
}

/// An export writes `null` for an unset column, as for the optional text fields.
fn null_is_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + serde::Deserialize<'de>,
{
    Ok(<Option<T> as serde::Deserialize>::deserialize(d)?.unwrap_or_default())
}

/// The largest id imported: JavaScript clients (seeds 002 and 003) read ids as numbers, exact
/// only up to 2^53 - 1, and the ids registered after an import must still fit above it.
const MAX_ID: u64 = (1 << 53) - 1;
const TOO_LARGE: &str = "at most 9007199254740991 (2^53 - 1, what JavaScript clients read exactly)";

/// A field of a line that is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadField {
    pub field: String,
    pub reason: String,
}

fn bad(field: &str, reason: impl Into<String>) -> BadField {
    BadField {
        field: field.to_string(),
        reason: reason.into(),
    }
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl ImportLine {
    /// Reads one JSON line; unknown fields are refused, naming them.
    pub fn read(line: &str) -> Result<ImportLine, BadField> {
        let mut json = serde_json::Deserializer::from_str(line);
        let read: Result<ImportLine, _> = serde_path_to_error::deserialize(&mut json);
        read.map_err(|e| {
            // The path names a field whose value has the wrong type (`disabled: 1`).
            let path = e.path().to_string();
            // The file's line number is the report's; serde's own is always 1 here.
            let msg = e
                .into_inner()
                .to_string()
                .replace(" at line 1 column ", " at column ");
            let named = msg
                .split('`')
                .nth(1)
                .filter(|_| msg.starts_with("unknown field") || msg.starts_with("missing field"));
            let field = match named {
                Some(field) => field.to_string(),
                // `.` is the line itself, `?` a line that is not JSON.
                None if !matches!(path.as_str(), "." | "?") => path,
                None => "line".to_string(),
            };
            BadField { field, reason: msg }
        })
    }

    /// Parses every field into domain types.
    pub fn parse(self, default_cc: &str, bare: BareHex) -> Result<ImportedUser, BadField> {
        let id = match &self.id {
            serde_json::Value::Number(n) => match n.as_u64().filter(|n| *n > 0) {
                Some(n) if n > MAX_ID => return Err(bad("id", TOO_LARGE)),
                Some(n) => LegacyId::Number(n),
                None => return Err(bad("id", "must be a positive integer or a string")),
            },
            serde_json::Value::String(s) => match LegacyId::parse(s) {
                Some(LegacyId::Number(0)) | None => {
                    return Err(bad("id", "a string id is 1 to 64 printable characters"))
                }
                Some(LegacyId::Number(n)) if n > MAX_ID => return Err(bad("id", TOO_LARGE)),
                Some(id) => id,
            },
            _ => return Err(bad("id", "must be a positive integer or a string")),
        };
        let field = |name: &'static str| move |e: ParseError| bad(name, e.to_string());
        let email = text(&self.email)
            .map(Email::parse)
            .transpose()
            .map_err(field("email"))?;
        let mobile = text(&self.mobile)
            .map(|m| Phone::parse(m, default_cc))
            .transpose()
            .map_err(field("mobile"))?;
        let username = text(&self.username)
            .map(|u| Username::parse(u, crate::domain::UsernamePolicy::default()))
            .transpose()
            .map_err(field("username"))?;
        if email.is_none() && mobile.is_none() && username.is_none() {
            return Err(bad("email", "one of email, mobile or username is required"));
        }
        let hash = text(&self.password_hash)
            .map(|h| legacy_hash::parse_imported(h, bare))
            .transpose()
            .map_err(field("password_hash"))?;
        let permissions = self
            .permissions
            .iter()
            .map(|p| Permission::parse(p))
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(field("permissions"))?;
        let created_at = text(&self.created_at)
            .map(|t| {
                chrono::DateTime::parse_from_rfc3339(t)
                    .map(|d| d.timestamp())
                    .map_err(|e| bad("created_at", format!("not RFC 3339: {e}")))
            })
            .transpose()?;
        let name = text(&self.name).unwrap_or("").to_string();
        if name.chars().count() > 128 {
            return Err(bad("name", "at most 128 characters"));
        }
        Ok(ImportedUser {
            id,
            email,
            mobile,
            username,
            name,
            hash,
            disabled: self.disabled,
            permissions,
            created_at,
        })
    }
}

impl ImportedUser {
    /// The identifiers this user claims, for telling duplicates apart inside one file.
    pub fn identifiers(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(e) = &self.email {
            out.push(format!("email {}", e.as_str()));
        }
        if let Some(m) = &self.mobile {
            out.push(format!("mobile {}", m.e164()));
        }
        if let Some(u) = &self.username {
            // As the store keys it: `Bob` and `bob` are one account.
            out.push(format!("username {}", u.folded()));
        }
        out
    }

    fn same_user(&self, existing: &User) -> bool {
        let legacy = match &self.id {
            LegacyId::Number(n) => existing.id.0 == *n && existing.legacy_id.is_none(),
            LegacyId::Text(t) => existing.legacy_id.as_deref() == Some(t.as_str()),
        };
        legacy
            && existing.email == self.email
            && existing.mobile == self.mobile
            && existing.username == self.username
    }
}

impl Auth {
    /// The user an original's string id (a pauli ObjectId) was imported as.
    pub async fn user_by_legacy_id(&self, id: &str) -> Result<Option<User>> {
        let Some(item) = self.store().get(&schema::legacy_user(id)).await? else {
            return Ok(None);
        };
        let claim: Claim = item.parse()?;
        self.user(claim.user_id).await
    }

    /// Raises the id counter to at least `max`, so users registered after an import get ids
    /// above every imported one. Done before the users are written.
    pub async fn reserve_ids_up_to(&self, max: u64) -> Result<()> {
        let key = schema::user_ids();
        // Reading the counter through an increment (DynamoDB answers nothing for a zero one)
        // costs one unused id, which is harmless.
        let current = self.store().increment(&key, 1, Lifetime::Forever).await?;
        let max = i64::try_from(max).map_err(|_| Error::invalid("id", "too large"))?;
        if current < max {
            self.store()
                .increment(&key, max - current, Lifetime::Forever)
                .await?;
        }
        Ok(())
    }

    /// What importing `new` would answer, without writing anything (an import's dry run).
    #[tracing::instrument(name = "preview_import", skip_all)]
    pub async fn preview_import(&self, new: &ImportedUser) -> Result<Outcome> {
        Ok(match self.import_clash(new).await? {
            Some(clash) => clash,
            None => Outcome::Imported(match new.id {
                LegacyId::Number(n) => UserId(n),
                LegacyId::Text(_) => UserId(0),
            }),
        })
    }

    /// Imports one user atomically with its unique identifiers.
    #[tracing::instrument(name = "import_user", skip_all)]
    pub async fn import_user(&self, new: &ImportedUser) -> Result<Outcome> {
        if let Some(clash) = self.import_clash(new).await? {
            return Ok(clash);
        }
        let (id, writes) = self.import_writes(new).await?;
        let mut batch = Batch::new();
        let mut what = vec![format!("id {id}")];
        what.extend(
            users::accounts_of(&new.email, &new.mobile, &new.username)
                .iter()
                .map(|a| a.field().to_string()),
        );
        what.push("the legacy id".into());
        for (write, name) in writes.into_iter().zip(what) {
            // A concurrent write took it between the reads and now.
            batch.add(write, Error::invalid(name, "was taken meanwhile"));
        }
        match batch.commit(self.store()).await {
            Ok(()) => Ok(Outcome::Imported(id)),
            Err(Error::Invalid { field, reason }) => {
                Ok(Outcome::Conflict(format!("{field} {reason}")))
            }
            Err(e) => Err(e),
        }
    }

    /// Why `new` is not to be written: already imported (a second run: the id, or the legacy
    /// id, is there with the same identifiers), or clashing with a user already there.
    async fn import_clash(&self, new: &ImportedUser) -> Result<Option<Outcome>> {
        let existing = match &new.id {
            LegacyId::Number(n) => self.user(UserId(*n)).await?,
            LegacyId::Text(t) => self.user_by_legacy_id(t).await?,
        };
        if let Some(user) = existing {
            return Ok(Some(match new.same_user(&user) {
                true => Outcome::Skipped(user.id),
                false => Outcome::Conflict(format!("id is taken by user {}", user.id)),
            }));
        }
        for account in users::accounts_of(&new.email, &new.mobile, &new.username) {
            if let Some(holder) = self.find_user(&account).await? {
                return Ok(Some(Outcome::Conflict(format!(
                    "{} is held by user {}",
                    account.field(),
                    holder.id
                ))));
            }
        }
        Ok(None)
    }

    /// The user item and its unique claims, each conditional on being new.
    async fn import_writes(&self, new: &ImportedUser) -> Result<(UserId, Vec<Write>)> {
        let password_hash = match &new.hash {
            Some(Imported::AsIs(h)) => h.clone(),
            Some(Imported::Md5(hex)) => self.0.hasher.wrap_md5(hex).await?,
            None => String::new(),
        };
        let (id, legacy_id) = match &new.id {
            LegacyId::Number(n) => (UserId(*n), None),
            LegacyId::Text(t) => (self.next_user_id().await?, Some(t.clone())),
        };
        let user = User {
            id,
            email: new.email.clone(),
            mobile: new.mobile.clone(),
            username: new.username.clone(),
            profile: Profile {
                name: new.name.clone(),
                nickname: new.name.clone(),
                ..Default::default()
            },
            status: if new.disabled {
                Status::Disabled
            } else {
                Status::Active
            },
            permissions: new.permissions.clone(),
            password_hash,
            created_at: new.created_at.unwrap_or_else(|| self.now()),
            legacy_id: legacy_id.clone(),
            // The original proved it, or the operator vouches for it by importing.
            mobile_confirmed: new.mobile.is_some(),
            unproven: Default::default(),
            session_epoch: 0,
            version: 1,
        };
        let mut writes = vec![Write::put_new(Item::of(schema::user(id), &user, None)?)];
        for a in users::accounts(&user) {
            writes.push(users::claim(&a, id)?);
        }
        if let Some(t) = &legacy_id {
            writes.push(Write::put_new(Item::of(
                schema::legacy_user(t),
                &Claim { user_id: id },
                None,
            )?));
        }
        Ok((id, writes))
    }

    /// Imports users in as few transactions as the store allows (no reads when nothing
    /// clashes); a transaction that clashes is retried user by user, which tells what is
    /// already there from what belongs to somebody else.
    pub async fn import_users(&self, users: &[ImportedUser]) -> Result<Vec<Outcome>> {
        let mut prepared = Vec::with_capacity(users.len());
        for u in users {
            prepared.push(self.import_writes(u).await?);
        }
        let mut outcomes = Vec::with_capacity(users.len());
        let mut start = 0;
        while start < prepared.len() {
            let mut end = start;
            let mut size = 0;
            while end < prepared.len() && size + prepared[end].1.len() <= TRANSACTION_LIMIT {
                size += prepared[end].1.len();
                end += 1;
            }
            let writes: Vec<Write> = prepared[start..end]
                .iter()
                .flat_map(|(_, w)| w.iter().cloned())
                .collect();
            match self.store().write(writes).await {
                Ok(()) => outcomes.extend(
                    prepared[start..end]
                        .iter()
                        .map(|(id, _)| Outcome::Imported(*id)),
                ),
                Err(StoreError::ConditionFailed(_)) => {
                    for u in &users[start..end] {
                        outcomes.push(self.import_user(u).await?);
                    }
                }
                Err(e) => return Err(e.into()),
            }
            start = end;
        }
        Ok(outcomes)
    }
}

/// Writes in one store transaction (DynamoDB's limit).
const TRANSACTION_LIMIT: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::{testing::*, Attempt, Client, SessionSpec};

    fn line(json: &str) -> Result<ImportedUser, BadField> {
        ImportLine::read(json).and_then(|l| l.parse("86", BareHex::Md5))
    }

    fn field_of(r: Result<ImportedUser, BadField>) -> String {
        r.map(|_| ()).unwrap_err().field
    }

    #[test]
    fn lines_are_parsed_into_checked_users() {
        let u = line(r#"{"id": 54, "email": "A@x.com", "password_hash": "0cc175b9c0f1b6a831c399e269772661"}"#).unwrap();
        assert_eq!(u.id, LegacyId::Number(54));
        assert_eq!(u.email.unwrap().as_str(), "a@x.com");
        assert!(matches!(u.hash, Some(Imported::Md5(_))));
        let u = line(r#"{"id": "5d3f0c1e9b1e8a0001a1b2c3", "mobile": "13312341234"}"#).unwrap();
        assert_eq!(u.id, LegacyId::Text("5d3f0c1e9b1e8a0001a1b2c3".into()));
        assert_eq!(u.mobile.unwrap().e164(), "+8613312341234");
        assert_eq!(
            line(r#"{"id": "77", "username": "bob"}"#).unwrap().id,
            LegacyId::Number(77)
        );
        assert_eq!(
            field_of(line(
                r#"{"id": 1, "email": "a@x.com", "pasword_hash": "x"}"#
            )),
            "pasword_hash"
        );
        assert_eq!(field_of(line(r#"{"email": "a@x.com"}"#)), "id");
        assert_eq!(field_of(line(r#"{"id": 0, "email": "a@x.com"}"#)), "id");
        assert_eq!(field_of(line(r#"{"id": 1, "email": "nope"}"#)), "email");
        assert_eq!(field_of(line(r#"{"id": 1, "name": "x"}"#)), "email");
        assert_eq!(
            field_of(line(
                r#"{"id": 1, "email": "a@x.com", "password_hash": "plain"}"#
            )),
            "password_hash"
        );
        assert_eq!(
            field_of(line(
                r#"{"id": 1, "email": "a@x.com", "created_at": "yesterday"}"#
            )),
            "created_at"
        );
        assert_eq!(field_of(line("{not json")), "line");
        // A value of the wrong type names its field (an export that wrote 0/1 for a flag).
        for (json, field) in [
            (
                r#"{"id": 1, "email": "a@x.com", "disabled": 1}"#,
                "disabled",
            ),
            (r#"{"id": 1, "mobile": 13312341234}"#, "mobile"),
            (
                r#"{"id": 1, "email": "a@x.com", "permissions": "x"}"#,
                "permissions",
            ),
        ] {
            assert_eq!(field_of(line(json)), field, "{json}");
        }
        let no_md5 = ImportLine::read(
            r#"{"id": 1, "email": "a@x.com", "password_hash": "0cc175b9c0f1b6a831c399e269772661"}"#,
        )
        .unwrap()
        .parse("86", BareHex::Undeclared);
        assert_eq!(field_of(no_md5), "password_hash");
    }

    async fn sign_in(t: &Harness, account: &str, password: &str) -> crate::Result<UserId> {
        let account = t.auth.account(account).unwrap();
        let password = crate::domain::Password::attempt(password).unwrap();
        let s = t
            .auth
            .password_login(
                Attempt::new(&account, &password, &Client::default()),
                &SessionSpec::default(),
            )
            .await?;
        Ok(s.user.id)
    }

    #[tokio::test]
    async fn imports_once_keeps_ids_and_reports_clashes() {
        let t = harness();
        let hash = bcrypt::hash("alnitak-pw", 4).unwrap();
        let u = line(&format!(
            r#"{{"id": 54, "email": "a@x.com", "password_hash": "{hash}"}}"#
        ))
        .unwrap();
        assert_eq!(
            t.auth.preview_import(&u).await.unwrap(),
            Outcome::Imported(UserId(54))
        );
        assert!(
            t.auth.user(UserId(54)).await.unwrap().is_none(),
            "a dry run writes nothing"
        );
        t.auth.reserve_ids_up_to(54).await.unwrap();
        assert_eq!(
            t.auth.import_user(&u).await.unwrap(),
            Outcome::Imported(UserId(54))
        );
        assert_eq!(
            t.auth.import_user(&u).await.unwrap(),
            Outcome::Skipped(UserId(54))
        );
        let other_id = line(r#"{"id": 54, "email": "b@x.com"}"#).unwrap();
        assert!(
            matches!(t.auth.import_user(&other_id).await.unwrap(), Outcome::Conflict(r) if r.contains("id is taken"))
        );
        let same_email = line(r#"{"id": 60, "email": "a@x.com"}"#).unwrap();
        assert!(
            matches!(t.auth.import_user(&same_email).await.unwrap(), Outcome::Conflict(r) if r.contains("email"))
        );
        assert!(t.auth.user(UserId(60)).await.unwrap().is_none());
        let registered = t
            .auth
            .register(
                new_email("new@x.com", "secret1"),
                None,
                &crate::services::Client::default(),
            )
            .await
            .unwrap();
        assert!(registered.id.0 > 54, "{:?}", registered.id);
    }

    #[tokio::test]
    async fn string_ids_are_kept_beside_a_new_id() {
        let t = harness();
        let u = line(r#"{"id": "5d3f0c1e9b1e8a0001a1b2c3", "email": "p@x.com", "name": "Pauli"}"#)
            .unwrap();
        let Outcome::Imported(id) = t.auth.import_user(&u).await.unwrap() else {
            panic!("imported");
        };
        let found = t
            .auth
            .user_by_legacy_id("5d3f0c1e9b1e8a0001a1b2c3")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (found.id, found.legacy_id.as_deref()),
            (id, Some("5d3f0c1e9b1e8a0001a1b2c3"))
        );
        assert_eq!(t.auth.import_user(&u).await.unwrap(), Outcome::Skipped(id));
        // The admin commands name the user by the id the operator knows too.
        let shown = t.auth.user_by("5d3f0c1e9b1e8a0001a1b2c3").await.unwrap();
        assert_eq!(shown.id, id);
        // Without a password hash nobody can sign in with a password.
        assert!(sign_in(&t, "p@x.com", "anything").await.is_err());
    }

    #[tokio::test]
    async fn a_legacy_hash_signs_in_once_then_is_argon2id() {
        for (hash, bare) in [
            (bcrypt::hash("the-pass-1", 4).unwrap(), BareHex::Undeclared),
            (legacy_hash::md5_hex(b"the-pass-1"), BareHex::Md5),
        ] {
            let t = harness();
            let u = ImportLine::read(&format!(
                r#"{{"id": 7, "email": "l@x.com", "password_hash": "{hash}"}}"#
            ))
            .unwrap()
            .parse("86", bare)
            .unwrap();
            t.auth.import_user(&u).await.unwrap();
            let stored = t.auth.user(UserId(7)).await.unwrap().unwrap().password_hash;
            if bare == BareHex::Md5 {
                assert!(!stored.contains(&hash), "an MD5 is never stored as it came");
                assert_eq!(legacy_hash::kind(&stored), "md5 (wrapped in argon2id)");
            }
            assert!(sign_in(&t, "l@x.com", "wrong-pass").await.is_err());
            assert_eq!(
                t.auth.user(UserId(7)).await.unwrap().unwrap().password_hash,
                stored,
                "a failed login changes nothing"
            );
            assert_eq!(
                sign_in(&t, "l@x.com", "the-pass-1").await.unwrap(),
                UserId(7)
            );
            let upgraded = t.auth.user(UserId(7)).await.unwrap().unwrap().password_hash;
            assert!(upgraded.starts_with("$argon2id$v=19$m=19456"), "{upgraded}");
            assert!(sign_in(&t, "l@x.com", "wrong-pass").await.is_err());
            assert_eq!(
                sign_in(&t, "l@x.com", "the-pass-1").await.unwrap(),
                UserId(7)
            );
        }
    }
}
