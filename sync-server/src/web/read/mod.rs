//! The pages' read models: each function takes a `&Connection` and the viewer's scope
//! (`None`: everything; `Some(supervisor)`: that supervisor's team, see
//! [`super::auth::WebUser::scope`]) and returns named structs. All the pages' SQL is here (their
//! one write, resolving an exception, is in [`super::actions`]); pages only render.

pub mod alerts;
pub mod exceptions;
pub mod gallery;
pub mod health;
pub mod map;
pub mod names;
pub mod people;
pub mod photos;
pub mod plans;
pub mod retakes;
pub mod scorecards;
pub mod visits;
// Customers and leads (issue 15).
pub mod customers;
pub mod leads;
pub mod pipeline;
