//! SMSC simulator and load generator. Built by the load-test issue.
