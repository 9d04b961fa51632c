//! Page requests the service makes itself: a detail view that shows the newest rows of a list
//! (a staff view of an organisation's sender IDs, an agent's sub-customers and their rates)
//! reads them through the list's own store function, which takes a [`PageRequest`].

use crate::http::pagination::PageRequest;

/// The newest `n` rows: a request whose fetch (one more than its page) is exactly `n`.
pub fn newest(n: i64) -> PageRequest {
    PageRequest {
        before: None,
        limit: n - 1,
    }
}
