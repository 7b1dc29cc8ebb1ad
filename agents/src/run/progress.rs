//! Progress of a training run on stderr: an indicatif bar on a terminal, and a plain line every
//! [`PLAIN_EVERY`] and at the end otherwise (a log file, a Slurm job, a pipe), so long work shows it is alive
//! wherever its output goes.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Interval between the plain progress lines written when stderr is not a terminal.
pub const PLAIN_EVERY: Duration = Duration::from_secs(30);

/// How progress is shown.
enum Shown {
    Hidden,
    Bar(ProgressBar),
    Lines { last: Instant },
}

/// Progress of one run's env steps: `update` after each PPO update, `finish` at the end.
pub struct StepProgress {
    label: String,
    total: u64,
    shown: Shown,
}

impl StepProgress {
    /// A bar on a terminal (unless `lines_only`), plain lines otherwise; nothing if `quiet`.
    /// `label` names the run in the plain lines (e.g. its directory).
    pub fn new(label: &str, total: u64, start: u64, quiet: bool, lines_only: bool) -> Self {
        let shown = if quiet {
            Shown::Hidden
        } else if !lines_only && std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {pos}/{len} steps  {msg}  ETA {eta}").expect("valid template"),
            );
            bar.set_position(start);
            Shown::Bar(bar)
        } else {
            Shown::Lines { last: Instant::now() }
        };
        Self { label: label.to_string(), total, shown }
    }

    /// Reports `step` of the total, the current throughput and mean training return.
    pub fn update(&mut self, step: u64, steps_per_s: f64, return_mean: f64) {
        match &mut self.shown {
            Shown::Hidden => {}
            Shown::Bar(bar) => {
                bar.set_position(step);
                bar.set_message(format!("{steps_per_s:.0} steps/s  return {return_mean:.1}"));
            }
            Shown::Lines { last } => {
                // Every PLAIN_EVERY, and once more at the last update.
                if last.elapsed() >= PLAIN_EVERY || step >= self.total {
                    *last = Instant::now();
                    eprintln!("{}", self.line(step, steps_per_s, return_mean));
                }
            }
        }
    }

    /// The plain progress line.
    pub fn line(&self, step: u64, steps_per_s: f64, return_mean: f64) -> String {
        let pct = 100.0 * step as f64 / self.total.max(1) as f64;
        format!(
            "{}: {step}/{} steps ({pct:.0} %), {steps_per_s:.0} steps/s, return {return_mean:.1}",
            self.label, self.total
        )
    }

    /// Ends the display: the bar stays drawn complete (or as it stopped, if `completed` is false).
    pub fn finish(self, completed: bool) {
        if let Shown::Bar(bar) = self.shown {
            if completed {
                bar.finish();
            } else {
                bar.abandon();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_line_names_the_run_the_step_and_the_share_done() {
        let p = StepProgress::new("runs/walker/seed-3", 3_000_000, 0, true, true);
        assert_eq!(
            p.line(750_000, 12_345.6, 1234.56),
            "runs/walker/seed-3: 750000/3000000 steps (25 %), 12346 steps/s, return 1234.6"
        );
    }
}
