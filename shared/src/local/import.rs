//! `polyauth admin import FILE`: an original's users from a JSON Lines export, one user a
//! line. Every line is parsed first (bad lines are reported with their number and field), the
//! id counter is raised above the highest imported id, then users are written concurrently,
//! each in its own transaction. Counts and problems go to stderr, a JSON summary to stdout.

use crate::{
    services::{legacy_hash::BareHex, ImportLine, ImportedUser, LegacyId, Outcome},
    Auth, Error,
};
use futures::StreamExt;
use serde_json::{json, Value};
use std::{collections::HashMap, io::IsTerminal};

/// Users offered to one transaction (a user is up to five writes; a transaction takes 100).
const PER_TRANSACTION: usize = 20;

pub struct Summary {
    pub json: Value,
    /// One line a problem, then the counts: what the command prints on stderr.
    pub report: String,
    /// Every line was imported or was already there.
    pub clean: bool,
}

/// Reads the file (`-` for stdin).
pub fn read_source(path: &str) -> std::io::Result<String> {
    if path == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
}

/// How an import runs.
pub struct Options {
    pub dry_run: bool,
    pub md5: bool,
    /// Transactions in flight.
    pub parallel: usize,
    /// The caller's terminal shows progress (never a server's).
    pub terminal: bool,
}

/// Imports every line of `text`. A failure of the store stops it; the report so far comes
/// with the error (users written are complete, and a second run imports the rest).
pub async fn run(auth: &Auth, text: &str, o: Options) -> Result<Summary, (String, Error)> {
    let Options {
        dry_run,
        md5,
        parallel,
        terminal,
    } = o;
    let bare = match md5 {
        true => BareHex::Md5,
        false => BareHex::Undeclared,
    };
    let mut report = String::new();
    let mut invalid = Vec::new();
    let mut conflicts = Vec::new();
    let mut users: Vec<(usize, ImportedUser)> = Vec::new();
    let mut seen_ids: HashMap<LegacyId, usize> = HashMap::new();
    let mut unreachable: Vec<usize> = Vec::new();
    let mut seen_identifiers: HashMap<String, usize> = HashMap::new();
    let default_cc = auth.config().default_country_code.clone();
    // A byte-order mark some exporters (Excel, PowerShell) write is not part of the first line.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = ImportLine::read(line).and_then(|l| l.parse(&default_cc, bare));
        let user = match parsed {
            Ok(u) => u,
            Err(bad) => {
                report.push_str(&format!(
                    "line {number}: invalid {}: {}\n",
                    bad.field, bad.reason
                ));
                invalid.push(json!({"line": number, "field": bad.field, "reason": bad.reason}));
                continue;
            }
        };
        let mut clash = seen_ids
            .get(&user.id)
            .map(|first| format!("a second line for this id (first on line {first})"));
        for identifier in user.identifiers() {
            if let Some(first) = seen_identifiers.get(&identifier) {
                clash.get_or_insert(format!("{identifier} is also on line {first}"));
            }
        }
        if let Some(reason) = clash {
            report.push_str(&format!("line {number}: conflict: {reason}\n"));
            conflicts.push(json!({"line": number, "reason": reason}));
            continue;
        }
        // Imported as it is, but seed 000's SMS step cannot reach it: the operator learns it
        // here, not from the user's failed logins.
        if let Some(mobile) = user.mobile.as_ref().filter(|m| !auth.texts_reach(m)) {
            report.push_str(&format!(
                "line {number}: warning: texts to mobile {} are not enabled \
                 (POLYAUTH_SMS_COUNTRIES): with the SMS step on, this user cannot sign in \
                 through seed 000 until they are\n",
                mobile.e164()
            ));
            unreachable.push(number);
        }
        seen_ids.insert(user.id.clone(), number);
        for identifier in user.identifiers() {
            seen_identifiers.insert(identifier, number);
        }
        users.push((number, user));
    }
    let highest = users
        .iter()
        .filter_map(|(_, u)| match u.id {
            LegacyId::Number(n) => Some(n),
            LegacyId::Text(_) => None,
        })
        .max();
    if let (false, Some(max)) = (dry_run, highest) {
        if let Err(e) = auth.reserve_ids_up_to(max).await {
            return Err((report, e));
        }
    }
    let progress = progress_bar(users.len() as u64, terminal);
    let chunks: Vec<Vec<(usize, ImportedUser)>> =
        users.chunks(PER_TRANSACTION).map(<[_]>::to_vec).collect();
    let mut outcomes = futures::stream::iter(chunks)
        .map(|chunk| async move { import_chunk(auth, chunk, dry_run).await })
        .buffer_unordered(parallel.max(1))
        .flat_map(futures::stream::iter);
    let (mut imported, mut skipped) = (0u64, 0u64);
    let mut failure = None;
    while let Some((number, outcome)) = outcomes.next().await {
        progress.inc(1);
        match outcome {
            Ok(Outcome::Imported(_)) => imported += 1,
            Ok(Outcome::Skipped(_)) => skipped += 1,
            Ok(Outcome::Conflict(reason)) => {
                report.push_str(&format!("line {number}: conflict: {reason}\n"));
                conflicts.push(json!({"line": number, "reason": reason}));
            }
            Err(e) => {
                report.push_str(&format!("line {number}: not imported: {e}\n"));
                failure.get_or_insert(e);
            }
        }
    }
    progress.finish_and_clear();
    if let Some(e) = failure {
        report.push_str("stopped: users written so far are complete, and running the same file again imports the rest\n");
        return Err((report, e));
    }
    conflicts.sort_by_key(|c| c["line"].as_u64());
    let verb = if dry_run { "would import" } else { "imported" };
    report.push_str(&format!(
        "{verb} {imported}, skipped {skipped} (already there), conflicts {}, invalid {}\n",
        conflicts.len(),
        invalid.len()
    ));
    let clean = conflicts.is_empty() && invalid.is_empty();
    Ok(Summary {
        report,
        json: json!({
            "dry_run": dry_run,
            "imported": imported,
            "skipped": skipped,
            "conflicts": conflicts,
            "invalid": invalid,
            "unreachable_mobiles": unreachable,
        }),
        clean,
    })
}

/// One transaction's worth of users, each with its line number and outcome. A dry run reads
/// user by user; a store failure is every line's outcome.
async fn import_chunk(
    auth: &Auth,
    chunk: Vec<(usize, ImportedUser)>,
    dry_run: bool,
) -> Vec<(usize, Result<Outcome, Error>)> {
    let numbers: Vec<usize> = chunk.iter().map(|(n, _)| *n).collect();
    if dry_run {
        let mut out = Vec::with_capacity(chunk.len());
        for (number, user) in &chunk {
            out.push((*number, auth.preview_import(user).await));
        }
        return out;
    }
    let people: Vec<ImportedUser> = chunk.into_iter().map(|(_, u)| u).collect();
    match auth.import_users(&people).await {
        Ok(outcomes) => numbers
            .into_iter()
            .zip(outcomes.into_iter().map(Ok))
            .collect(),
        Err(e) => numbers.into_iter().map(|n| (n, Err(e.clone()))).collect(),
    }
}

/// A bar on the caller's terminal; nothing when stderr is a file or a pipe.
fn progress_bar(len: u64, terminal: bool) -> indicatif::ProgressBar {
    if !terminal || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} users, {per_sec}, {eta} left")
    {
        bar.set_style(style);
    }
    bar
}
