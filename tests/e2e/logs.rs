//! End-to-end tests of the logs tool group (in progress).
