//! Fixed-length delay lines for sensory and motor delays.

/// A ring buffer that returns, on every push, the frame pushed `delay` pushes earlier.
///
/// Each frame is a fixed-width slice of `f32` (`[width]`). With `delay == 0` the line is a
/// pass-through. After [`DelayLine::fill`] every slot holds the given frame, which is how a
/// delay line is primed at the start of an episode (the sensor has "always" read that value).
/// Pushing never allocates.
#[derive(Debug, Clone, PartialEq)]
pub struct DelayLine {
    width: usize,
    delay: usize,
    /// `[max(delay, 1), width]`, the oldest frame at `head`.
    slots: Vec<f32>,
    head: usize,
}

impl DelayLine {
    /// A line of `delay` steps for frames of `width` values, filled with zeros.
    pub fn new(width: usize, delay: usize) -> Self {
        Self { width, delay, slots: vec![0.0; width * delay.max(1)], head: 0 }
    }

    /// Number of steps a frame waits before it comes out.
    pub fn delay(&self) -> usize {
        self.delay
    }

    /// Number of values in one frame.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Sets every slot to `frame`.
    pub fn fill(&mut self, frame: &[f32]) {
        assert_eq!(frame.len(), self.width, "DelayLine::fill: frame width");
        for slot in self.slots.chunks_exact_mut(self.width) {
            slot.copy_from_slice(frame);
        }
        self.head = 0;
    }

    /// Pushes `frame` and writes the frame from `delay` pushes ago into `out`.
    pub fn push(&mut self, frame: &[f32], out: &mut [f32]) {
        let w = self.width;
        assert_eq!(frame.len(), w, "DelayLine::push: frame width");
        assert_eq!(out.len(), w, "DelayLine::push: output width");
        if self.delay == 0 {
            out.copy_from_slice(frame);
            return;
        }
        // The slot at `head` is the oldest (pushed `delay` steps before this one): read it,
        // then overwrite it with the newest frame and advance.
        let slot = &mut self.slots[self.head * w..(self.head + 1) * w];
        out.copy_from_slice(slot);
        slot.copy_from_slice(frame);
        self.head = (self.head + 1) % self.delay;
    }

    /// The frame that the next [`DelayLine::push`] will return.
    pub fn peek(&self) -> &[f32] {
        &self.slots[self.head * self.width..(self.head + 1) * self.width]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_change_is_shifted_by_exactly_the_delay() {
        for delay in 0..6 {
            let mut line = DelayLine::new(1, delay);
            line.fill(&[0.0]);
            let mut out = [0.0f32];
            let mut first_seen = None;
            for t in 0..20 {
                let input = if t >= 5 { 1.0 } else { 0.0 };
                line.push(&[input], &mut out);
                if out[0] == 1.0 && first_seen.is_none() {
                    first_seen = Some(t);
                }
            }
            assert_eq!(first_seen, Some(5 + delay), "delay {delay}");
        }
    }

    #[test]
    fn frames_come_out_in_order() {
        let mut line = DelayLine::new(2, 2);
        line.fill(&[-1.0, -1.0]);
        let mut out = [0.0f32; 2];
        let mut seen = vec![];
        for t in 0..5 {
            let v = t as f32;
            line.push(&[v, 10.0 * v], &mut out);
            seen.push(out);
        }
        assert_eq!(seen, vec![[-1.0, -1.0], [-1.0, -1.0], [0.0, 0.0], [1.0, 10.0], [2.0, 20.0]]);
    }
}
