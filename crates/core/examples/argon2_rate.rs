//! Argon2id's own hash rate on this machine, with the server's default parameters
//! (OWASP: 19 MiB, 2 passes, 1 lane) through the server's [`PasswordHasher`]: one
//! worker per CPU, kept busy for N seconds. The ceiling `POST /auth/login` can reach.
//!
//! `cargo run --release -p otp-core --example argon2_rate -- [seconds, default 5]`
//! prints `argon2_hashes_per_second=<rate> workers=<n> seconds=<s>`.

use std::time::{Duration, Instant};

use otp_core::Password;
use otp_core::crypto::{Argon2Settings, PasswordHasher};

type Error = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let seconds: u64 = std::env::args().nth(1).map(|text| text.parse()).transpose()?.unwrap_or(5);
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    // Room for every caller: nothing is refused, every worker always has a job waiting.
    let callers = workers * 2;
    let hasher = PasswordHasher::with_queue(Argon2Settings::default(), workers, callers)?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let hasher = hasher.clone();
            tokio::spawn(async move {
                let mut done = 0_u64;
                while Instant::now() < deadline {
                    let password = Password::new("correct horse battery staple".to_owned())?;
                    hasher.hash(password).await?;
                    done += 1;
                }
                Ok::<u64, Error>(done)
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!("argon2_hashes_per_second={:.1} workers={workers} seconds={elapsed:.1}", total as f64 / elapsed);
    Ok(())
}
