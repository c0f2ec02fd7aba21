//! One invocation's worth of steps: what the sync's Durable Object runs in each alarm.
//! Before a step the job is saved with its attempt counter raised, so a step that the
//! runtime kills (memory, CPU) is counted even though it never returns; after it, the job
//! and the step's events are saved together. A slice ends when the job is finished, when
//! the meter's budget is spent, or after `SLICE_MS`, and says when to run the next one.

use super::{step, GitHub, Job, Phase, Ports, Scratch, Store, StoreError};
use crate::progress::ProgressData;

/// Wall time one invocation spends on steps before yielding to a fresh one (fresh CPU and
/// subrequest budgets, and a checkpoint that bounds lost work).
pub const SLICE_MS: u64 = 8_000;
/// Longest wait between tries of a final record that keeps failing.
pub const MAX_END_BACKOFF_MS: u64 = 60_000;

/// Where the job and its event log live between invocations.
pub trait Checkpoint {
    /// Saves the job and appends `events` to the log, atomically (one storage transaction),
    /// so the log never says more or less than the job.
    fn save(&self, job: &Job, events: &[ProgressData]) -> Result<(), StoreError>;
    /// Whether the sync was asked to stop before its commit, and how.
    fn stop_requested(&self) -> Result<Option<StopRequest>, StoreError>;
}

/// What the worker asked of a running sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopRequest {
    /// A user's cancel: ends CANCELLED.
    Cancel,
    /// The service's own: ends FAILED with this reason (say, a suspended installation).
    Fail(String),
}

/// When the next slice should run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The job is finished: its row says how it ended.
    Done,
    /// More work: run again at once, in a fresh invocation.
    Now,
    /// The final record failed: try again after this many milliseconds.
    After(u64),
}

pub async fn run_slice<G: GitHub, S: Store, X: Scratch, C: Checkpoint>(
    job: &mut Job,
    ports: &Ports<'_, G, S, X>,
    checkpoint: &C,
    clock: &dyn Fn() -> u64,
) -> Result<Next, StoreError> {
    let started = clock();
    loop {
        if job.is_finished() {
            return Ok(Next::Done);
        }
        match checkpoint.stop_requested()? {
            Some(StopRequest::Cancel) => job.cancel_requested = true,
            // Between steps: the commit either happened (the job is finished) or has not.
            Some(StopRequest::Fail(why)) => super::abandon(job, why),
            None => {}
        }
        job.step_attempts += 1;
        checkpoint.save(job, &[])?;
        let events = step(job, ports, clock()).await;
        job.step_attempts = 0;
        checkpoint.save(job, &events)?;
        if job.is_finished() {
            return Ok(Next::Done);
        }
        if job.phase == Phase::Ending && events.is_empty() {
            return Ok(Next::After(end_backoff_ms(job.end_attempts)));
        }
        if ports.meter.spent() || clock().saturating_sub(started) >= SLICE_MS {
            return Ok(Next::Now);
        }
    }
}

/// 1 s, 2 s, 4 s … up to a minute between tries of a failing final record.
pub fn end_backoff_ms(attempts: u32) -> u64 {
    (1_000u64 << attempts.min(6)).min(MAX_END_BACKOFF_MS)
}
