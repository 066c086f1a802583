//! End-to-end tests of the example tool group (in progress).
