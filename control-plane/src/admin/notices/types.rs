//! Types of the staff notification feed (the customer feed's shapes, for one staff member).

pub use crate::notifications::types::{
    MarkedRead, Notification as StaffNotification, NotificationQuery, UnreadCount,
};
