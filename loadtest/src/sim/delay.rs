//! A min-heap of items keyed by due time, FIFO among equal times. Used for delayed
//! `submit_sm_resp`s in a session and for receipts in the scheduler.

use std::{cmp::Ordering, collections::BinaryHeap};

use tokio::time::Instant;

struct Entry<T> {
    due: Instant,
    order: u64,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    // Reversed: BinaryHeap is a max-heap and the earliest must come out first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.due, other.order).cmp(&(self.due, self.order))
    }
}

/// Items waiting for their time.
pub struct DelayHeap<T> {
    heap: BinaryHeap<Entry<T>>,
    order: u64,
}

impl<T> std::fmt::Debug for DelayHeap<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DelayHeap({} items)", self.heap.len())
    }
}

impl<T> Default for DelayHeap<T> {
    fn default() -> Self {
        Self {
            heap: BinaryHeap::new(),
            order: 0,
        }
    }
}

impl<T> DelayHeap<T> {
    /// Adds `item`, due at `due`.
    pub fn push(&mut self, due: Instant, item: T) {
        self.order += 1;
        self.heap.push(Entry {
            due,
            order: self.order,
            item,
        });
    }

    /// The earliest due time.
    pub fn next_due(&self) -> Option<Instant> {
        self.heap.peek().map(|e| e.due)
    }

    /// Removes and returns the earliest item if it is due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<T> {
        if self.heap.peek()?.due <= now {
            self.heap.pop().map(|e| e.item)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn pops_in_due_order_then_fifo() {
        let t = Instant::now();
        let mut h = DelayHeap::default();
        h.push(t + Duration::from_millis(5), "late");
        h.push(t, "first");
        h.push(t, "second");
        assert_eq!(h.pop_due(t), Some("first"));
        assert_eq!(h.pop_due(t), Some("second"));
        assert_eq!(h.pop_due(t), None);
        assert_eq!(h.pop_due(t + Duration::from_millis(5)), Some("late"));
        assert!(h.next_due().is_none());
    }
}
