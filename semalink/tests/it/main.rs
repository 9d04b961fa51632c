//! Integration tests of the one-process system against a real PostgreSQL (a fresh database
//! per test, `#[sqlx::test]`, DATABASE_URL) and the project's SMSC simulator, everything on
//! port 0.

mod e2e;
mod spine;
