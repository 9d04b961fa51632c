//! SMPP framing: TODO being written.
