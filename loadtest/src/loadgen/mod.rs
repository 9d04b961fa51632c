//! Load generator: being written.
