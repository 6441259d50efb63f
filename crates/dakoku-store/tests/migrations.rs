//! The SQLite and PostgreSQL migration folders describe one schema. They must hold the same
//! files, and each file the same statements, except for the dialect differences listed here.
//! (An applied migration can never be edited, because sqlx checks its checksum: a difference
//! that slipped in stays, and is documented below rather than fixed.)

use std::collections::BTreeMap;
use std::path::Path;

/// (file, SQLite line, PostgreSQL line): where the two dialects must say different things.
const DIALECT_DIFFERENCES: &[(&str, &str, &str)] = &[
    // SQLite's INTEGER is 64-bit; PostgreSQL needs BIGINT for the same range. Other files use
    // BIGINT on both sides (SQLite accepts it as INTEGER affinity); this one predates that.
    (
        "20261123000002_timesheets.sql",
        "ALTER TABLE punches ADD COLUMN voids INTEGER NOT NULL DEFAULT 0;",
        "ALTER TABLE punches ADD COLUMN voids BIGINT NOT NULL DEFAULT 0;",
    ),
];

/// Each file's lines without comments and blank lines.
fn statements(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("migration folder") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).expect("file name").to_owned();
        let text = std::fs::read_to_string(&path).expect("migration text");
        let lines = text
            .lines()
            .map(|line| line.split("--").next().unwrap_or("").trim_end().to_owned())
            .filter(|line| !line.trim().is_empty())
            .collect();
        files.insert(name, lines);
    }
    files
}

#[test]
fn sqlite_and_postgres_migrations_say_the_same_thing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let sqlite = statements(&root.join("sqlite"));
    let postgres = statements(&root.join("postgres"));
    assert_eq!(
        sqlite.keys().collect::<Vec<_>>(),
        postgres.keys().collect::<Vec<_>>(),
        "both folders hold the same migration files"
    );
    let mut used = vec![false; DIALECT_DIFFERENCES.len()];
    let mut differences = Vec::new();
    for (name, lite) in &sqlite {
        let pg = &postgres[name];
        if lite.len() != pg.len() {
            differences.push(format!("{name}: {} statement lines on SQLite, {} on PostgreSQL", lite.len(), pg.len()));
            continue;
        }
        for (a, b) in lite.iter().zip(pg) {
            if a == b {
                continue;
            }
            let allowed = DIALECT_DIFFERENCES
                .iter()
                .position(|(file, l, p)| *file == name.as_str() && *l == a.trim() && *p == b.trim());
            match allowed {
                Some(i) => used[i] = true,
                None => differences.push(format!("{name}:\n  sqlite:   {a}\n  postgres: {b}")),
            }
        }
    }
    assert!(differences.is_empty(), "undocumented differences:\n{}", differences.join("\n"));
    assert!(used.iter().all(|u| *u), "every documented difference still exists (remove stale entries)");
}
