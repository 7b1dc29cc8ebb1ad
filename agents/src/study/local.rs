//! The local executor: a plan's unfinished jobs on this machine, `jobs` at a time, each in
//! its own `engram run-job` process, with an overall and a per-job progress bar (plain
//! progress lines when the output is not a terminal).

use super::markers::{JobState, Markers};
use super::plan::{Plan, PLAN_FILE};
use crate::error::AgentError;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{BufRead, BufReader, IsTerminal};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The prefix of the machine-readable progress lines `engram run-job --progress-lines` prints:
/// `@progress DONE TOTAL RETURN`.
pub const PROGRESS_PREFIX: &str = "@progress";

/// How often a job's progress is printed as a plain line when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(30);

/// Runs every unfinished job of the plan at `plan_path` with the binary `exe` (`engram`),
/// `jobs` processes at a time. Fails (after every job has had its turn) naming the jobs that
/// failed.
pub fn run_plan(exe: &Path, plan_path: &Path, jobs: usize) -> Result<(), AgentError> {
    if jobs == 0 {
        return Err(AgentError::Config("--jobs must be >= 1 (got 0)".into()));
    }
    let (plan, dir) = Plan::load(plan_path)?;
    let plan_file = dir.join(PLAN_FILE);
    let todo: Vec<usize> = plan
        .jobs
        .iter()
        .filter(|j| Markers::new(&dir.join(&j.out_dir)).state() != JobState::Done)
        .map(|j| j.index)
        .collect();
    let tty = std::io::stderr().is_terminal();
    let multi =
        MultiProgress::with_draw_target(if tty { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() });
    let overall = multi.add(ProgressBar::new(plan.jobs.len() as u64));
    overall.set_style(ProgressStyle::with_template("{prefix:>12} {bar:30} {pos}/{len} jobs  {msg}").expect("template"));
    overall.set_prefix("overall");
    overall.set_position((plan.jobs.len() - todo.len()) as u64);
    let queue = std::sync::Mutex::new(todo.into_iter());
    let failures = std::sync::Mutex::new(vec![]);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let Some(index) = queue.lock().expect("queue").next() else { break };
                let job = &plan.jobs[index];
                let bar = multi.add(ProgressBar::new(1));
                bar.set_style(
                    ProgressStyle::with_template("{prefix:>12} {bar:30} {pos}/{len} steps {msg}").expect("template"),
                );
                bar.set_prefix(format!("job {index}"));
                let ok = spawn_job(exe, &plan_file, index, &job.id, &bar, tty);
                bar.finish_and_clear();
                multi.remove(&bar);
                match ok {
                    Ok(()) => {
                        overall.inc(1);
                        if !tty {
                            eprintln!("job {index} ({}) done; {}/{} jobs", job.id, overall.position(), plan.jobs.len());
                        }
                    }
                    Err(e) => failures.lock().expect("failures").push(format!("job {index} ({}): {e}", job.id)),
                }
            });
        }
    });
    overall.finish();
    let failures = failures.into_inner().expect("failures");
    if !failures.is_empty() {
        return Err(AgentError::Study(format!(
            "{} of {} jobs failed:\n  {}\n(`engram status --plan {}` shows them; rerun `engram run` to retry)",
            failures.len(),
            plan.jobs.len(),
            failures.join("\n  "),
            plan_file.display()
        )));
    }
    Ok(())
}

/// Parses a progress line into `(done, total, mean_return)`.
pub fn parse_progress(line: &str) -> Option<(u64, u64, f64)> {
    let mut it = line.split_whitespace();
    if it.next() != Some(PROGRESS_PREFIX) {
        return None;
    }
    let nums: Vec<f64> = it.filter_map(|x| x.parse().ok()).collect();
    match nums[..] {
        [done, total, ret] => Some((done as u64, total as u64, ret)),
        _ => None,
    }
}

fn spawn_job(
    exe: &Path,
    plan_file: &Path,
    index: usize,
    id: &str,
    bar: &ProgressBar,
    tty: bool,
) -> Result<(), AgentError> {
    let mut child = Command::new(exe)
        .args(["run-job", "--plan"])
        .arg(plan_file)
        .args(["--index", &index.to_string(), "--progress-lines"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| AgentError::io(exe, e))?;
    let stderr = child.stderr.take().expect("piped");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            s.push_str(&line);
            s.push('\n');
        }
        s
    });
    let mut last_plain = Instant::now();
    for line in BufReader::new(child.stdout.take().expect("piped")).lines().map_while(Result::ok) {
        if let Some((done, total, ret)) = parse_progress(&line) {
            bar.set_length(total);
            bar.set_position(done);
            if ret.is_finite() {
                bar.set_message(format!("return {ret:.1}"));
            }
            if !tty && last_plain.elapsed() >= PLAIN_EVERY {
                last_plain = Instant::now();
                eprintln!("job {index} ({id}): {done}/{total} steps, return {ret:.1}");
            }
        }
    }
    let status = child.wait().map_err(|e| AgentError::io(exe, e))?;
    let err = err_reader.join().unwrap_or_default();
    if status.success() {
        Ok(())
    } else {
        Err(AgentError::Study(err.trim().lines().last().unwrap_or("exited with an error").to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_parse_and_other_lines_do_not() {
        assert_eq!(parse_progress("@progress 10 100 -3.5"), Some((10, 100, -3.5)));
        let (d, t, r) = parse_progress("@progress 0 5 NaN").unwrap();
        assert_eq!((d, t), (0, 5));
        assert!(r.is_nan());
        assert_eq!(parse_progress("job 1 done"), None);
        assert_eq!(parse_progress("@progress 1 2"), None);
    }
}
