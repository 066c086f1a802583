//! End-to-end tests of the workflows tool group (in progress).
