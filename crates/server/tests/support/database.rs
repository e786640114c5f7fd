//! A PostgreSQL database of its own for one test, shared by the test binaries.

/// A database of its own for one test, dropped when the test ends.
pub struct TestDatabase {
    pub url: String,
}

impl TestDatabase {
    pub fn new() -> Self {
        let server = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let base = server.rsplit_once('/').map_or(server.as_str(), |(base, _)| base).to_owned();
        Self { url: format!("{base}/otp_test_{}", uuid::Uuid::new_v4().simple()) }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let url = self.url.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(otp_postgres::drop_database(&url))
        })
        .join();
        if !matches!(dropped, Ok(Ok(_))) {
            eprintln!("could not drop test database {}", self.url);
        }
    }
}
