//! End-to-end tests of the limits tool group (in progress).
