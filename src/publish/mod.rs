//! The publishing stage: tables → charts ([`charts`], with the published series of
//! [`history`]) → the report ([`report`]) and each unit's feedback pages ([`feedback`]).

pub mod charts;
pub mod disclosure;
pub mod feedback;
pub mod history;
pub mod map;
pub mod markdown;
pub mod person_form;
pub mod report;
pub mod trends;
