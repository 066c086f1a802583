//! The example tools, one module each: arguments, answer, handler and definition.

pub mod echo;
pub mod http_get;
pub mod read_file;
pub mod sql_query;
