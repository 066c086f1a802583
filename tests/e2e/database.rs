//! End-to-end tests of the database tool group (in progress).
